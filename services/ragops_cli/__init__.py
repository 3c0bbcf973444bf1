"""The `ragops` command line."""
