"""How often the missing_detail rule flags answerable and unanswerable SQuAD questions.

The rule (rag.answer.language.details.missing_details) says a question cannot be answered from
an article that never mentions one of its names or numbers. The held-out articles have too few such
questions to tell whether it helps the reader (it flags 2 answerable and 3 unanswerable there), so
this scores it where there are thousands: the SQuAD training articles (train_reader.TRAIN_FILES,
less the held-out ones; never the benchmark), each question against its own whole article. No
reader and nothing fitted: the rule's precision alone, split into single names or numbers and
names of several words.

    python bench/detail_rule_precision.py
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_reader  # noqa: E402

from rag.answer.language.details import Vocabulary, missing_details  # noqa: E402


def flagged_by(question: str, vocabulary: Vocabulary) -> str | None:
    """"word" when a single name or number is missing, "name" when only a name of several
    words is (missing_details reports those joined by spaces), None when the rule does not flag
    the question."""
    missing = missing_details(question, vocabulary)
    if not missing:
        return None
    return "name" if " " in missing[0] else "word"


def main() -> None:
    asked: collections.Counter[bool] = collections.Counter()
    flagged: collections.Counter[tuple[bool, str]] = collections.Counter()
    for name in train_reader.TRAIN_FILES:
        for article in json.loads((train_reader.SHARED / name).read_text(encoding="utf-8"))["data"]:
            if article["title"] in train_reader.HOLDOUT:
                continue
            text = article["title"].replace("_", " ") + "\n\n" + "\n\n".join(p["context"] for p in article["paragraphs"])
            vocabulary = Vocabulary(text)
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    answerable = not qa.get("is_impossible", False)
                    asked[answerable] += 1
                    how = flagged_by(qa["question"], vocabulary)
                    if how:
                        flagged[answerable, how] += 1
    print("| questions | asked | flagged: a name or number | flagged: a name of several words | flagged in all |")
    print("|---|---|---|---|---|")
    for answerable in (True, False):
        n = asked[answerable]
        word, phrase = flagged[answerable, "word"], flagged[answerable, "name"]
        print(f"| {'answerable' if answerable else 'unanswerable'} | {n} | {word} ({word / n:.3f}) |"
              f" {phrase} ({phrase / n:.3f}) | {word + phrase} ({(word + phrase) / n:.3f}) |")
    caught = flagged[False, "word"] + flagged[False, "name"]
    print(f"precision (unanswerable among flagged): {caught / max(1, caught + flagged[True, 'word'] + flagged[True, 'name']):.3f}")


if __name__ == "__main__":
    main()
