"""Where chunks live and are searched: one interface (`rag.store.base.Store`) and its backends.

The embedded backend is one index directory (manifest, SQLite + FTS5, FAISS). Imports only
the basics (`rag.text`, `rag.config`, `rag.errors`, `embeddings`); never ingest, retrieval,
answering or the interfaces.
"""
