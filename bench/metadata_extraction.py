"""Per-field precision and recall of rag.ingest.metadata on real news pages and on the test corpus.

    PYTHONPATH=. python bench/metadata_extraction.py                       # the test corpus only
    PYTHONPATH=. python bench/metadata_extraction.py \
        --newspaper4k /path/to/newspaper4k-0.9.6 \
        --htmldate /path/to/htmldate-checkout [--limit N] [--baselines] [--parsers]

Sources of real pages (read from the given paths, never copied into this repository):
- newspaper4k: `pip download --no-deps --no-binary :all: newspaper4k==0.9.6`, unpacked; its
  tests/data/html/*.html pages (MIT licence). Labels: bench/real_pages/newspaper4k_gold.json
  (hand-checked; see its "_source").
- htmldate: a checkout of github.com/adbar/htmldate (Apache-2.0; the PyPI sdist does not ship the
  pages): tests/eval_default.json and tests/eval_mediacloud_2020.json give a hand-annotated
  publication day and the page's URL for 1,000 pages in tests/{cache,eval,test_set}/.

Precision = correct / answers given; recall = correct / answers the label has. A field the label
says is unknown (None, or no authors) counts an answer as a wrong one. Authors are scored per
name (case and spacing ignored); dates per day; URLs without scheme, "www.", query, fragment and
trailing slash; headlines and outlets after case, space and quote folding.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.ingest import metadata as M  # noqa: E402
from rag.ingest.cleaning import clean_news_text  # noqa: E402
from rag.ingest.loading import decode_text, read_document  # noqa: E402

FIELDS = ("headline", "outlet", "authors", "published", "url")


def fold(text: str | None) -> str | None:
    if text is None:
        return None
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[‘’‚‛′`]", "'", text)
    text = re.sub(r"[“”„‟″]", '"', text)
    return " ".join(text.split()) or None


def fold_url(url: str | None) -> str | None:
    if not url:
        return None
    url = re.sub(r"^https?://", "", url.strip().lower())
    url = re.sub(r"^www\.", "", url)
    url = re.split(r"[?#]", url)[0]
    return url.rstrip("/") or None


class Score:
    def __init__(self) -> None:
        self.given = defaultdict(int)
        self.labelled = defaultdict(int)
        self.correct = defaultdict(int)
        self.misses: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str, field: str, got, want) -> None:
        """`want`: the label (None = unknown; a list of alternatives for headline/url)."""
        if field == "authors":
            g = {fold(a) for a in got or ()}
            w = {fold(a) for a in want or ()}
            self.given[field] += len(g)
            self.labelled[field] += len(w)
            self.correct[field] += len(g & w)
            if g != w:
                self.misses[field].append(f"{name}: got {sorted(g)} want {sorted(w)}")
            return
        norm = fold_url if field == "url" else (lambda d: d[:10] if isinstance(d, str) and d else None) if field == "published" else fold
        wants = [norm(w) for w in (want if isinstance(want, list) else [want]) if w]
        g = norm(got)
        if g is not None:
            self.given[field] += 1
        if wants:
            self.labelled[field] += 1
        ok = g is not None and g in wants
        if ok:
            self.correct[field] += 1
        if not ok and (g is not None or wants):
            self.misses[field].append(f"{name}: got {got!r} want {want!r}")

    def table(self, fields=FIELDS) -> str:
        rows = ["| field | labelled | answered | correct | precision | recall |", "|---|---|---|---|---|---|"]
        for f in fields:
            if not self.labelled[f] and not self.given[f]:
                continue
            p = self.correct[f] / self.given[f] if self.given[f] else float("nan")
            r = self.correct[f] / self.labelled[f] if self.labelled[f] else float("nan")
            rows.append(f"| {f} | {self.labelled[f]} | {self.given[f]} | {self.correct[f]} | {p:.3f} | {r:.3f} |")
        return "\n".join(rows)


def extract_for_ingest(path: Path) -> M.ArticleMeta:
    """What an ingest would store: from_html(page) completed by the cleaned text's header
    (from_text); plain text: from_text."""
    data = path.read_bytes()
    html = decode_text(data) or ""
    if path.suffix.lower() not in (".html", ".htm"):
        return M.from_text(html)
    page = M.from_html(html)
    doc = read_document(path)
    if hasattr(doc, "text"):
        return M.merge(page, clean_news_text(doc.text, title_hint=doc.title).meta)
    return page


def run_corpus(show_misses: bool) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from news_corpus import write_news_corpus

    with tempfile.TemporaryDirectory() as tmp:
        expected = write_news_corpus(Path(tmp))
        score = Score()
        for name, info in expected.items():
            meta = extract_for_ingest(Path(tmp) / name)
            for field in FIELDS:
                score.add(name, field, getattr(meta, field), info["expected"][field])
        print(f"\n## Test corpus (tests/news_corpus.py, {len(expected)} files; from_html + merge(from_text))\n")
        print(score.table())
        _misses(score, show_misses)


def _misses(score: Score, show: bool) -> None:
    if not show:
        return
    for field, items in score.misses.items():
        for item in items[:15]:
            print(f"  miss {field}: {item}")


def run_newspaper4k(root: Path, show_misses: bool, baselines: bool) -> None:
    gold = json.loads((ROOT / "bench/real_pages/newspaper4k_gold.json").read_text(encoding="utf-8"))
    html_dir = root / "tests/data/html"
    mine, page_only, traf = Score(), Score(), Score()
    n = 0
    for name, want in gold.items():
        if name.startswith("_"):
            continue
        path = html_dir / f"{name}.html"
        if not path.exists():
            print(f"  (missing {path})")
            continue
        n += 1
        meta = extract_for_ingest(path)
        alone = M.from_html(decode_text(path.read_bytes()) or "")
        for field in FIELDS:
            mine.add(name, field, getattr(meta, field), want[field])
            page_only.add(name, field, getattr(alone, field), want[field])
        if baselines:
            import trafilatura

            t = trafilatura.extract_metadata(decode_text(path.read_bytes()) or "")
            authors = [a.strip() for a in (t.author or "").split(";") if a.strip()] if t else []
            got = {"headline": t.title, "outlet": t.sitename, "authors": authors, "published": t.date, "url": t.url} if t else {}
            for field in FIELDS:
                traf.add(name, field, got.get(field), want[field])
    print(f"\n## Real pages: newspaper4k 0.9.6 test pages ({n} English news pages, hand-checked labels)\n")
    print("rag.ingest.metadata, from_html + merge(from_text of the cleaned text):\n")
    print(mine.table())
    _misses(mine, show_misses)
    print("\nfrom_html alone:\n")
    print(page_only.table())
    if baselines:
        print("\nbaseline: trafilatura.extract_metadata (defaults; what loading.py used before):\n")
        print(traf.table())


def run_htmldate(root: Path, limit: int | None, show_misses: bool, baselines: bool) -> None:
    tests = root / "tests"
    pages: dict[str, dict] = {}
    for name in ("eval_default.json", "eval_mediacloud_2020.json"):
        path = tests / name
        if path.exists():
            pages.update(json.loads(path.read_text(encoding="utf-8")))
    items = list(pages.items())[:limit] if limit else list(pages.items())
    mine, fast, extensive, traf = Score(), Score(), Score(), Score()
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seconds = {"mine": 0.0, "htmldate fast": 0.0, "htmldate extensive": 0.0, "trafilatura": 0.0}
    slowest = (0.0, "")
    n = 0
    for url, info in items:
        path = next((tests / d / info["file"] for d in ("test_set", "cache", "eval") if (tests / d / info["file"]).is_file()), None)
        if path is None:
            continue
        html = decode_text(path.read_bytes())
        if not html:
            continue
        if not isinstance(info.get("date"), str):
            info = {**info, "date": None}  # labelled as having no date: any answer is wrong
        n += 1
        if n % 100 == 0:
            print(f"  ... {n} pages", file=sys.stderr, flush=True)
        started = time.perf_counter()
        meta = M.from_html(html, url_hint=url)
        took = time.perf_counter() - started
        seconds["mine"] += took
        slowest = max(slowest, (took, info["file"]))
        mine.add(info["file"], "published", meta.published, info["date"])
        mine.add(info["file"], "url", meta.url, url)
        src = meta.published_source or "none"
        by_source[src][0] += 1
        by_source[src][1] += bool(meta.published and meta.published[:10] == info["date"])
        if baselines:
            from htmldate import find_date
            from trafilatura import extract_metadata

            for label, score, kwargs in (("htmldate fast", fast, {"extensive_search": False}),
                                         ("htmldate extensive", extensive, {"extensive_search": True})):
                started = time.perf_counter()
                try:
                    got = find_date(html, original_date=True, url=url, **kwargs)
                except Exception:
                    got = None
                seconds[label] += time.perf_counter() - started
                score.add(info["file"], "published", got, info["date"])
            started = time.perf_counter()
            try:
                t = extract_metadata(html, default_url=url)
                got = t.date if t else None
            except Exception:
                got = None
            seconds["trafilatura"] += time.perf_counter() - started
            traf.add(info["file"], "published", got, info["date"])
    print(f"\n## Real pages: htmldate's evaluation set ({n} pages, hand-annotated publication day, a few labelled"
          " as having none; url = the page's address)\n")
    print("rag.ingest.metadata.from_html(html, url_hint=page URL):\n")
    print(mine.table(("published", "url")))
    print(f"\nms/page: {seconds['mine'] / max(n, 1) * 1000:.1f} (slowest {slowest[0] * 1000:.0f} ms, {slowest[1]})")
    print("\npublished by signal (pages, correct):")
    for src, (count, ok) in sorted(by_source.items(), key=lambda kv: -kv[1][0]):
        print(f"  {src:40s} {count:5d} {ok:5d}  ({ok / count:.3f})")
    _misses(mine, show_misses)
    if baselines:
        for label, score in (("htmldate.find_date(original_date=True, extensive_search=False)", fast),
                             ("htmldate.find_date(original_date=True, extensive_search=True)", extensive),
                             ("trafilatura.extract_metadata(...).date (defaults)", traf)):
            key = "htmldate fast" if "False" in label else "htmldate extensive" if "True" in label else "trafilatura"
            print(f"\nbaseline: {label}; ms/page {seconds[key] / max(n, 1) * 1000:.1f}\n")
            print(score.table(("published",)))


def run_parsers() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import dateparser
    import dateutil.parser

    cases = ["3 March", "Monday 12 February", "2 hours ago", "yesterday", "03/04/2016", "Tuesday 3 March 2016",
             "March 2016", "3 March 2016", "Updated 14:05 GMT, 3 Mar 2016"]
    strict = {"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"]}
    print("\n## Date parsers on header strings (None = unknown)\n")
    print("| text | rag.text.dates.parse_date | dateparser (strict settings) | dateutil.parser.parse |")
    print("|---|---|---|---|")
    for c in cases:
        try:
            dp = dateparser.parse(c, settings=strict)
        except Exception as exc:  # noqa: BLE001
            dp = type(exc).__name__
        try:
            du = dateutil.parser.parse(c)
        except Exception as exc:  # noqa: BLE001
            du = type(exc).__name__
        print(f"| {c} | {M.parse_date(c)} | {dp} | {du} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--newspaper4k", type=Path, help="unpacked newspaper4k sdist")
    ap.add_argument("--htmldate", type=Path, help="htmldate source checkout with tests/eval*")
    ap.add_argument("--limit", type=int, help="at most this many htmldate pages")
    ap.add_argument("--baselines", action="store_true", help="also score trafilatura and htmldate")
    ap.add_argument("--parsers", action="store_true", help="compare date parsers on header strings")
    ap.add_argument("--misses", action="store_true", help="list the wrong answers")
    args = ap.parse_args()
    run_corpus(args.misses)
    if args.newspaper4k:
        run_newspaper4k(args.newspaper4k, args.misses, args.baselines)
    if args.htmldate:
        run_htmldate(args.htmldate, args.limit, args.misses, args.baselines)
    if args.parsers:
        run_parsers()


if __name__ == "__main__":
    main()
