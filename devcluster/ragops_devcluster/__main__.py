"""`python -m ragops_devcluster ...`: the dev-cluster CLI without the ragops entry point."""

from ragops_devcluster.cli import app

app(prog_name="ragops dev-cluster")
