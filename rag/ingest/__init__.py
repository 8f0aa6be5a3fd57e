"""Files in, documents and chunks out: load (encoding, HTML, PDF), clean news boilerplate,
chunk by sentences with exact offsets, and the pipeline that writes them to a store.

Imports the store and the basics (`rag.text`, `rag.config`, `rag.errors`, `embeddings`);
never retrieval, answering or the interfaces.
"""
