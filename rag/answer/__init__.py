"""Passages in, a cited Answer out: the answer and citation types, the extractive answerer
with the language helpers only it uses (`language/`), the LLM chain, and the Assistant that
ties retrieval to answering and checks every quote.

Imports retrieval, the store and the basics; never ingest or the interfaces.
"""
