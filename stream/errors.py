"""Errors a source can end with, apart from the decoding code so the command line can name them without
loading PyAV and OpenCV."""


class SourceError(RuntimeError):
    """A source that cannot be opened or read at all; the message says which and why."""


class StreamStalled(SourceError):
    """A live source that stays open but sends nothing for longer than the read timeout."""
