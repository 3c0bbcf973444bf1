"""One router per resource: questions, documents, jobs, feedback, the chat page's config and
operations (probes, metrics). Handlers translate HTTP to a core service and back, nothing more.
"""
