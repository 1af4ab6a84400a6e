"""The ``wangzi`` command line (Typer + rich).

Each command group lives in its own module with a ``register(app)`` function; the list
below is the one place that decides which groups exist. Exit codes: 0 success,
1 the command ran and found a problem (e.g. a parse failure, an unhealthy platform),
2 bad usage or input (Typer's own code for usage errors).
"""

from __future__ import annotations

import importlib

import typer

COMMAND_MODULES: list[str] = [
    "crawler.cli.db",
    "crawler.cli.candidates",
    "crawler.cli.parse",
    "crawler.cli.crawl",
]

app = typer.Typer(
    name="wangzi",
    help="Find and track cross-border creators: crawl profiles, store snapshots, compute features.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def main() -> None:
    app()
