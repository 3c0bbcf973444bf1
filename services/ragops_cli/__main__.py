from ragops_cli.main import app

app(prog_name="ragops")
