"""Scoring the assistant: the seed question set, SQuAD v2 files, and the metrics both share."""
