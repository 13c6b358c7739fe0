"""The pipelines' exceptions. The CLI turns each into a one-line reason."""


class PipelineError(Exception):
    """Base of every pipeline error."""


class SourceError(PipelineError):
    """A source could not be read as a whole (the run fails and is rolled back)."""


class SourceUnavailable(SourceError):
    """The source did not answer usefully, even after the configured retries."""


class SourceRefused(SourceError):
    """The source refused us (401/403): retrying cannot help, the credentials must change."""


class UnreadableUnit(PipelineError):
    """One file or export cannot be read at all; it is quarantined as unreadable_file."""
