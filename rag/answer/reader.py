"""When the embedder knows meaning: how much the question-sentence cosine counts in choosing
the answer sentence, and whether the chosen sentence answers at all.

Both are fitted by bench/fit_reader.py on the SQuAD 2.0 subset, leave-one-article-out (never
on eval/seed_questions.jsonl, which `rag eval` scores), and stored in reader_weights.json
beside this file: a weight for the cosine, and a logistic regression over the features that
`best_extract` reports (lexical coverage, whether the span holds the kind of thing asked for,
the lexical rule flags, the cosines). The file is JSON, read with an allow-list of keys, never
unpickled. With the hashed offline embedder none of this applies: the lexical rules and the
support threshold decide alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from rag.answer.extractive import RULES
from rag.errors import RagError

WEIGHTS_FILE = Path(__file__).with_name("reader_weights.json")
SCHEMA = 1


@dataclass(frozen=True)
class ReaderWeights:
    meaning_weight: float
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    rules: frozenset[str]
    #: "classifier": the regression decides abstention; "support": the lexical support threshold
    #: does, as with the offline embedder (the cosine still helps choose the sentence).
    abstention: str = "classifier"

    def probability(self, features: dict[str, float]) -> float:
        """How likely the chosen sentence answers the question (the classifier's estimate)."""
        z = self.intercept
        for name, mean, scale, coef in zip(self.features, self.mean, self.scale, self.coef):
            z += coef * (features.get(name, 0.0) - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def answers(self, features: dict[str, float]) -> bool:
        return self.probability(features) >= self.threshold

    def to_json(self) -> dict[str, object]:
        return {
            "schema": SCHEMA, "meaning_weight": self.meaning_weight, "features": list(self.features),
            "mean": list(self.mean), "scale": list(self.scale), "coef": list(self.coef),
            "intercept": self.intercept, "threshold": self.threshold, "rules": sorted(self.rules),
            "abstention": self.abstention,
        }


def parse(data: object) -> ReaderWeights:
    try:
        assert isinstance(data, dict) and data.get("schema") == SCHEMA
        features = tuple(str(f) for f in data["features"])
        numbers = {k: tuple(float(x) for x in data[k]) for k in ("mean", "scale", "coef")}
        assert all(len(v) == len(features) for v in numbers.values()) and all(s > 0 for s in numbers["scale"])
        rules = frozenset(str(r) for r in data["rules"])
        assert rules <= RULES
        abstention = str(data.get("abstention", "classifier"))
        assert abstention in ("classifier", "support")
        return ReaderWeights(float(data["meaning_weight"]), features, numbers["mean"], numbers["scale"],
                             numbers["coef"], float(data["intercept"]), float(data["threshold"]), rules, abstention)
    except (AssertionError, KeyError, TypeError, ValueError) as exc:
        raise RagError(f"reader weights are malformed ({exc.__class__.__name__}); re-run bench/fit_reader.py") from None


def load(path: Path = WEIGHTS_FILE, *, force: bool = False) -> ReaderWeights | None:
    """The fitted weights, or None when there are none or the file says `"enabled": false`
    (then the lexical rules decide, as with the offline embedder); `force` loads them anyway."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot read {path.name}: {exc.__class__.__name__}") from None
    if isinstance(data, dict) and data.get("enabled") is False and not force:
        return None
    return parse(data.get("model") if isinstance(data, dict) and "model" in data else data)
