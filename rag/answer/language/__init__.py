"""The extractive answerer's own reading of English: what a question asks for, the names and
numbers it gives, what a sentence refers to, negation and opposites.

Imports only the basics (`rag.text`); used only by `rag.answer`.
"""
