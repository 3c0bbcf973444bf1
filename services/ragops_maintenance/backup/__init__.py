"""Backups of the vector store to S3 and restores from them (`ragops backup`, `ragops restore`).

Pure parts (manifest, layout, retention; the portable point format is the core's,
ragops_core/portable.py, since both vector stores read and write it) are kept apart from the
I/O (the S3 bucket, Qdrant's snapshot API, the store-specific dumpers), so the rules are
unit-tested alone. Which stores a backup reads is picked in ragops_wiring/backup.py.
See docs/backup.md for the format and the layout in S3.
"""
