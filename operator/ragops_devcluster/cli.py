"""`ragops dev-cluster`: build, start, inspect and stop the local control plane."""

import typer

app = typer.Typer(help="A local Kubernetes control plane built from Go modules, for tests and demos.", no_args_is_help=True)
