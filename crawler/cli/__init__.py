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
    """``wangzi``: the app, with one last rule for every command - an OS error that reaches
    here (an output path that is a directory, a full disk) is one line and an exit code, never
    a traceback (commands report the errors they expect themselves)."""
    import os
    import sys

    from crawler.cli._common import os_error

    try:
        app()
    except BrokenPipeError:  # the reader went away (`wangzi candidates list | head`): say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        sys.exit(os_error(exc).exit_code)
