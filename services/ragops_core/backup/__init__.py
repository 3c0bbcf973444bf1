"""Backups of the vector store to S3 and restores from them (`ragops backup`, `ragops restore`).

Pure parts (manifest, layout, retention, the portable point format) are kept apart from the
I/O (the S3 bucket adapter, the store-specific dumpers), so the rules are unit-tested alone.
See docs/backup.md for the format and the layout in S3.
"""
