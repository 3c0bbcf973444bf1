"""`ragops dev-cluster` comes from the optional ragops-devcluster distribution: mounted when it
is installed, and explained (not "No such command") when it is not."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
import typer
from typer.testing import CliRunner

from ragops_cli import plugins


def _app_with(monkeypatch: pytest.MonkeyPatch, installed: list[EntryPoint]) -> typer.Typer:
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: [e for e in installed if e.group == group]
    )
    app = typer.Typer()

    @app.command()
    def serve() -> None:
        """A command of the core CLI."""

    plugins.add_optional_commands(app)
    return app


def test_a_missing_dev_cluster_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(_app_with(monkeypatch, []), ["dev-cluster", "build", "--nice", "5"])
    assert result.exit_code == 2
    assert "not installed" in result.output and "pip install -e ./devcluster" in result.output


def test_an_installed_dev_cluster_is_mounted(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = EntryPoint(name="dev-cluster", value="ragops_devcluster.cli:app", group=plugins.GROUP)
    result = CliRunner().invoke(_app_with(monkeypatch, [entry]), ["dev-cluster", "--help"])
    assert result.exit_code == 0
    assert "build" in result.output and "not installed" not in result.output
