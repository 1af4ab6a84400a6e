"""The ``wangzi`` command line (Typer + rich).

Each command group lives in its own module in this package with a ``register(app)``
function; every such module is registered, in alphabetical order, so adding a command is
adding a module. Exit codes: 0 success,
1 the command ran and found a problem (e.g. a parse failure, an unhealthy platform),
2 bad usage or input (Typer's own code for usage errors).
"""

from __future__ import annotations

import importlib
import pkgutil

import typer


def command_modules() -> list[str]:
    """Every module of this package that defines ``register(app)``."""
    return sorted(f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


app = typer.Typer(
    name="wangzi",
    help="Find and track cross-border creators: crawl profiles, store snapshots, compute features.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in command_modules():
    _module = importlib.import_module(_name)
    if hasattr(_module, "register"):
        _module.register(app)


def main() -> None:
    app()
