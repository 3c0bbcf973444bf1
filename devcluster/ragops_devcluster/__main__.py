"""`python -m ragops_devcluster ...`: the dev-cluster CLI without installing the ragops entry point."""

from ragops_devcluster.cli import app

app(prog_name="ragops dev-cluster")
