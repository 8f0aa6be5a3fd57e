"""Ask questions about a folder of news articles; answers cite verbatim, verified passages."""

__version__ = "0.1.0"
