"""Text to vectors for the FAISS index: one interface, one module per backend, a factory.

Importing this package is cheap: torch and sentence-transformers load only when the torch
backend is created (or a model is exported to ONNX once); the onnx backend needs only
onnxruntime, tokenizers and numpy.
"""

from embeddings.base import Embedder
from embeddings.errors import EmbedderError, ModelUnavailable
from embeddings.factory import create_embedder

__all__ = ["Embedder", "EmbedderError", "ModelUnavailable", "create_embedder"]
