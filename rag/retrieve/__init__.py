"""Question in, ranked passages out: BM25 and dense rankings fused by reciprocal rank, a
sentence (or cross-encoder) rerank, and the LangChain retriever.

Imports the store and the basics; never ingest, answering or the interfaces.
"""
