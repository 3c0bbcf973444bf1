"""Optional `ragops` subcommands shipped by other distributions of the repository.

`ragops dev-cluster` lives in `ragops-devcluster` (devcluster/), which the production package
and image leave out; it registers its Typer app under the `ragops.commands` entry-point group.
A known command that is not installed still answers, with how to install it, instead of
"No such command".
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

import typer

GROUP = "ragops.commands"
# name -> what to run to get it (from a clone of the repository)
KNOWN = {
    "dev-cluster": (
        "pip install -e ./devcluster  (ragops-devcluster, from a clone of the repository)"
    )
}


def add_optional_commands(app: typer.Typer) -> None:
    """Mount every installed plugin's Typer app; a stub that explains for known missing ones."""
    installed: set[str] = set()
    for entry in entry_points(group=GROUP):
        plugin = entry.load()
        if isinstance(plugin, typer.Typer):
            app.add_typer(plugin, name=entry.name)
            installed.add(entry.name)
    for name, install in KNOWN.items():
        if name not in installed:
            app.command(
                name,
                help=f"Not installed: {install}.",
                context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
                add_help_option=False,
            )(_missing(name, install))


def _missing(name: str, install: str) -> Callable[[], None]:
    def explain() -> None:
        typer.echo(
            f"error: `ragops {name}` is not installed in this environment; "
            f"install it with: {install}",
            err=True,
        )
        raise typer.Exit(2)

    return explain
