"""Text to vectors for the FAISS index: one interface, one module per backend, a factory.

Importing this package is cheap: torch and sentence-transformers load only when a
sentence-transformers model is actually created.
"""

from embeddings.base import Embedder
from embeddings.errors import EmbedderError
from embeddings.factory import create_embedder

__all__ = ["Embedder", "EmbedderError", "create_embedder"]
