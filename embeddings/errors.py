"""The errors the embeddings package raises: each message is a single line saying what to do."""


class EmbedderError(ValueError):
    """An embedder cannot be created or loaded."""


class ModelUnavailable(EmbedderError):
    """A model is on neither this machine nor a reachable hub (the only case `auto` falls back on)."""
