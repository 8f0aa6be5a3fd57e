"""The one error the embeddings package raises: its message is a single line saying what to do."""


class EmbedderError(ValueError):
    """An embedder cannot be created or loaded."""
