"""Errors that carry a message a user can act on."""


class RagOpsError(Exception):
    """Base of every error RAGOps raises on purpose."""


class NotFoundError(RagOpsError):
    """An id (document, job, answer) that does not exist for this tenant."""


class UnsupportedDocumentError(RagOpsError):
    """A file type RAGOps cannot read (not PDF, text or Markdown)."""


class DocumentTooLargeError(RagOpsError):
    """An upload over the configured size limit."""


class QueueUnavailableError(RagOpsError):
    """The ingestion queue could not take a message (unreachable, or refusing it): nothing was
    queued, and the caller may try again later."""


class ExtractionError(RagOpsError):
    """A document that could not be read: corrupt, encrypted, or without text."""


class AuthenticationError(RagOpsError):
    """A request without a valid token where authentication is required."""


class StoreBusyError(RagOpsError):
    """The data directory is held by another RAGOps process."""


class BackupError(RagOpsError):
    """A backup could not be taken or uploaded; nothing older was deleted."""


class RestoreError(RagOpsError):
    """A restore was refused (corrupt or incompatible backup, non-empty store) or failed.

    Here rather than beside the backups (ragops_maintenance.backup): the portable point
    format (portable.py), which the vector store adapters read, raises it too."""
