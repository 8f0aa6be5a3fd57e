"""Basics every stage shares: words and stems as the index sees them, and sentence spans.

Imports nothing from the rest of `rag` but `rag.config` and `rag.errors`.
"""
