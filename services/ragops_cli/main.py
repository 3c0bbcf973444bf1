"""Entry point of the `ragops` command: one image, one CLI, many entrypoints."""

import typer

from ragops_devcluster.cli import app as dev_cluster_app

app = typer.Typer(help="RAGOps: a production RAG stack from one resource, or all in one process.", no_args_is_help=True)
app.add_typer(dev_cluster_app, name="dev-cluster")
