"""Does a cited passage say what a sentence of the model's reply says? Who did what, with which
figures, where, and whether or not.

Asking only that a sentence's words occur somewhere in the passage accepts the commonest
model errors: the deed of one person given to another named nearby ("Sir Michael Wilshaw leads
the police watchdog" from "... Sir Tom, who leads watchdog ..."), a figure moved to the other
place in the same sentence ("In Oxford 1,400 children ..."), a dropped "not". So a claim is
supported only by one sentence, or two adjacent sentences, of a passage it cites, and only if:

- every word that carries meaning is there (names as names, with initials standing for them:
  "HMIC"; irregular verbs and British or American spelling folded), and every figure with
  the same value and hedge ("1400" is "1,400"; "300" is not "more than 300");
- the words sit together as they do in the claim: taking each of the claim's meaningful words
  in turn, the next one lies within a few words of it in the passage (one consistent reading
  of the passage, not the nearest copy of each word);
- no other name or figure of the passage is clearly closer to what the claim attaches to its
  own (the "1,400" of "in Rotherham 1,400" cannot be Oxford's);
- "not", "never", "without", "failed to", "lack" ... are as many there as in the claim, near
  the words the claim uses;
- a name the claim gives a role ("to Sir Tom", "from Kraków") has that role there.

A trained reader (rag.answer.span_reader) may also be asked the user's question over the
supporting sentences (ReaderVerifier): if it answers there, its answer must be in the claim.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from rag.answer.markers import split_reply, strip_markers
from rag.text.numbers import Figure, figures
from rag.text.sentences import sentence_spans
from rag.text.terms import STOP_WORDS, stem

#: The most content words that may lie between two neighbouring words of a claim in the passage.
REACH = 6
#: A rival name or figure this close (in content words) to a claim's word claims it ...
NEAR = 2
#: ... when the claim's own name or figure is this much further away.
MARGIN = 3
#: How far before a word a "not" still bears on it (tokens).
NEGATION_LOOKBACK = 3
#: Crossing from one sentence to the next counts as this many words in between.
SENTENCE_GAP = 3
#: How many tokens into a sentence a pronoun may stand for a name of the sentence before.
PRONOUN_REACH = 5
#: A name or figure may lie this far from its neighbour in the claim when no other name (or
#: figure) that could take its place stands between them ("Jacksonville ..., with an estimated
#: population of 853,382").
LONG_REACH = 15

#: Words that carry meaning although terms.STOP_WORDS lists them (quantities, order, contrast).
_MEANINGFUL = frozenset("more most few only all same other before after above below under over again further "
                        "against first last".split())
_STOP = (STOP_WORDS - _MEANINGFUL) | frozenset(
    "also however yet still although though including included especially whom whose upon via among "
    "per etc cent percent".split())
#: "not until 1271", "not only": no negation of what follows.
_PSEUDO_NEGATIONS = re.compile(r"\b(?:not|no)\s+(?:until|only|least|just|merely|far from)\b", re.IGNORECASE)
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot n't unable fail fails failed "
                       "failing lack lacks lacked lacking".split())
#: Verbs that carry little of a claim's content: a model's wording, not an addition.
_LIGHT_VERBS = frozenset(stem(w) for w in "make become take give carry hold include contain represent remain serve "
                         "have get do".split())
_CLAUSE_OPENERS = frozenset("and but while whereas which who whose although though making followed where when "
                             "then so yet".split())
_PREPOSITIONS = frozenset("in of on at from to by with into for near about over under across through between "
                          "within without toward towards along around behind beyond via per onto upon".split())
_DETERMINERS = frozenset("the a an this that these those its his her their".split())
_TITLES = frozenset("sir mr mrs ms dr lord lady dame king queen prince princess general president chief "
                    "professor prof saint st the".split())
_CONNECTORS = frozenset("of de la le the von van da di du del der bin al y".split())
_CALENDAR = frozenset("january february march april may june july august september october november december "
                      "monday tuesday wednesday thursday friday saturday sunday".split())
_PRONOUNS = frozenset("he she they it his her their its".split())
_CLAIM_PRONOUNS = _PRONOUNS | frozenset("him them this these those".split())
#: Prepositions that give a name its role in a deed (to whom, from where, against whom).
_ROLES = frozenset("to from against".split())
_IRREGULAR = {
    "led": "lead", "began": "begin", "begun": "begin", "built": "build", "fought": "fight", "found": "find",
    "made": "make", "met": "meet", "held": "hold", "left": "leave", "took": "take", "taken": "take",
    "gave": "give", "given": "give", "grew": "grow", "grown": "grow", "rose": "rise", "risen": "rise",
    "fell": "fall", "fallen": "fall", "wrote": "write", "written": "write", "knew": "know", "known": "know",
    "spoke": "speak", "spoken": "speak", "sold": "sell", "paid": "pay", "won": "win", "lost": "lose",
    "brought": "bring", "thought": "think", "sought": "seek", "chose": "choose", "chosen": "choose",
    "drove": "drive", "driven": "drive", "ran": "run", "came": "come", "went": "go", "gone": "go", "saw": "see",
    "seen": "see", "sent": "send", "spent": "spend", "stood": "stand", "taught": "teach", "caught": "catch",
    "struck": "strike", "flew": "fly", "flown": "fly", "broke": "break", "broken": "break", "became": "become",
    "ate": "eat", "eaten": "eat", "meant": "mean", "kept": "keep", "felt": "feel", "dealt": "deal",
    "heard": "hear", "sank": "sink", "sunk": "sink", "threw": "throw", "thrown": "throw", "fled": "flee",
    "understood": "understand", "froze": "freeze", "frozen": "freeze", "shook": "shake", "shaken": "shake",
    "wore": "wear", "worn": "wear", "stole": "steal", "stolen": "steal", "drew": "draw", "drawn": "draw",
    "children": "child", "men": "man", "women": "woman", "people": "person", "mice": "mouse", "feet": "foot",
    "teeth": "tooth", "lay": "lie", "laid": "lay", "born": "bear", "borne": "bear", "hid": "hide",
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+(?:[.,]\d+)*|\S", re.UNICODE)
_META = re.compile(
    r"^\s*(?:(?:yes|no)\s*[,.]\s*)?(?:(?:according to|based on|as (?:stated|mentioned|noted|described) in|per)\s+"
    r"(?:the\s+)?(?:passage|article|text|context|source|document)s?(?:\s*\d+)?\s*,?\s*"
    r"|(?:the\s+)?(?:passage|article|text|context|source|document)s?(?:\s*\d+)?\s+"
    r"(?:says|states|mentions|notes|reports|indicates|explains|shows|tells us)(?:\s+that)?\s+)?", re.IGNORECASE)
_ANSWER_WORD = re.compile(r"^\s*(?:yes|no)\s*[,.]\s+", re.IGNORECASE)


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in word if not unicodedata.combining(ch)).replace("’", "'")


@lru_cache(maxsize=65536)
def key(word: str) -> str:
    """The form two words share when they mean the same: lemma, US spelling, stem."""
    w = _IRREGULAR.get(word, word)
    w = re.sub(r"our(s|ed|ing|ite|ites)?$", r"or\1", w) if len(w) > 5 else w
    w = re.sub(r"is(e|ed|es|ing|ation|ations)$", r"iz\1", w) if len(w) > 6 else w
    return stem(w)


@dataclass
class _Token:
    text: str
    start: int
    end: int
    norm: str
    cap: bool
    sentence: int
    first: bool
    kind: str = "word"  # "word", "punct", "figure" (a figure's first token), "in-figure", "hedge"
    figure: Figure | None = None
    name: int = -1  # index of the name run the token belongs to
    pos: int = -1  # content position (stop words and punctuation have none)


@dataclass
class _Unit:
    """A thing the claim asserts: a word, a name, or a figure; and where it is in the text."""

    kind: str  # "word", "name", "figure"
    key: str
    first: int  # token indices [first, last]
    last: int
    names: frozenset[str] = frozenset()  # a name's significant words
    figure: Figure | None = None


class _Text:
    """A tokenised text with its content positions, names and figures."""

    def __init__(self, text: str, spans: Sequence[tuple[int, int]], known_names: frozenset[str] = frozenset()) -> None:
        self.text = text
        self.tokens: list[_Token] = []
        for s, (a, b) in enumerate(spans):
            first = True
            for m in _WORD.finditer(text, a, b):
                word = m.group()
                norm = _fold(word)
                if norm.endswith("'s"):
                    norm = norm[:-2]
                if norm.endswith("n't"):
                    self.tokens.append(_Token(word, m.start(), m.end() - 3, norm[:-3], False, s, first))
                    self.tokens.append(_Token("n't", m.end() - 3, m.end(), "n't", False, s, False))
                    first = False
                    continue
                alpha = word[0].isalpha()
                self.tokens.append(_Token(word, m.start(), m.end(), norm, alpha and word[0].isupper(), s, first,
                                          "word" if alpha or word.isdigit() else "punct"))
                if alpha:
                    first = False
        self._mark_figures()
        self.runs: list[tuple[int, int]] = []
        self._mark_names(known_names)
        position = 0
        for i, t in enumerate(self.tokens):
            if t.kind in ("punct", "in-figure", "hedge"):
                continue
            if t.kind == "word" and (t.norm in _STOP or t.norm in _NEGATIONS) and t.name < 0:
                continue
            if t.name >= 0 and i > self.runs[t.name][0] and t.norm in _CONNECTORS:
                t.pos = position - 1 if position else 0
                continue
            t.pos = position
            position += 1

    def _mark_figures(self) -> None:
        for f in figures(self.text):
            inside = [t for t in self.tokens if f.hedge_start <= t.start < f.end]
            head = [t for t in inside if t.start >= f.start]
            if not head:
                continue
            for t in inside:
                t.kind = "hedge" if t.start < f.start else "in-figure"
            head[0].kind, head[0].figure = "figure", f

    def _mark_names(self, known: frozenset[str]) -> None:
        """Runs of capitalised words ("Sir Tom Winsor", "Her Majesty's Inspectorate of
        Constabulary"); a sentence's first word only if it is capitalised elsewhere too."""
        tokens = self.tokens
        i = 0
        while i < len(tokens):
            if not self._name_word(tokens[i], known):
                i += 1
                continue
            j = i
            while True:
                k = j + 1
                if k < len(tokens) and tokens[k].text in ("-", "–") and k + 1 < len(tokens) \
                        and self._name_word(tokens[k + 1], known):
                    j = k + 1
                    continue
                if k + 1 < len(tokens) and tokens[k].text == "." and len(tokens[j].text) <= 3 \
                        and tokens[k + 1].sentence == tokens[j].sentence and self._name_word(tokens[k + 1], known):
                    j = k + 1  # "St. Johns River", "U.S. Navy"
                    continue
                while k < len(tokens) and tokens[k].norm in _CONNECTORS and tokens[k].kind == "word" \
                        and not tokens[k].cap:
                    k += 1
                if k < len(tokens) and tokens[k].sentence == tokens[i].sentence and self._name_word(tokens[k], known):
                    j = k
                    continue
                break
            for t in tokens[i:j + 1]:
                t.name = len(self.runs)
            self.runs.append((i, j))
            i = j + 1

    @staticmethod
    def _name_word(t: _Token, known: frozenset[str]) -> bool:
        if t.kind != "word" or not t.cap or t.norm in _CALENDAR:
            return False
        if t.norm.isupper() or t.text.isupper() and len(t.text) > 1:
            return True
        if t.first:
            return t.norm in known and t.norm not in _PRONOUNS
        return t.norm not in _STOP or t.norm in _TITLES or t.norm == "her"

    def name_words(self, run: int) -> frozenset[str]:
        a, b = self.runs[run]
        return frozenset(t.norm for t in self.tokens[a:b + 1] if t.kind == "word" and t.norm not in _TITLES
                         and t.norm not in _CONNECTORS and t.text not in ("-", "–"))

    def initials(self, run: int) -> str:
        a, b = self.runs[run]
        return "".join(t.norm[0] for t in self.tokens[a:b + 1]
                       if t.kind == "word" and t.norm not in _CONNECTORS and t.text[0].isupper())

    def units(self) -> list[_Unit]:
        """The claim's assertions in order: each name once, each figure, each meaningful word."""
        out: list[_Unit] = []
        seen_runs: set[int] = set()
        for i, t in enumerate(self.tokens):
            if t.pos < 0 or t.kind == "punct":
                continue
            if t.name >= 0 and self.name_words(t.name):
                if t.name not in seen_runs:
                    seen_runs.add(t.name)
                    a, b = self.runs[t.name]
                    out.append(_Unit("name", " ".join(sorted(self.name_words(t.name))), a, b,
                                     self.name_words(t.name)))
                continue
            if t.kind == "figure":
                out.append(_Unit("figure", str(t.figure.value), i, i, figure=t.figure))  # type: ignore[union-attr]
            elif t.kind == "word" and t.norm.isalpha():
                out.append(_Unit("word", key(t.norm), i, i))
        return out

    def negations(self, heads: Sequence[int], lo: int = 0) -> int:
        """How many negating words bear on the given tokens: those at most NEGATION_LOOKBACK
        tokens before one of them ("not quick", "did not call", "not at all afraid")."""
        found = {i for h in heads for i in range(max(lo, h - NEGATION_LOOKBACK), h)
                 if self.tokens[i].norm in _NEGATIONS and not self._pseudo(i)}
        return len(found)

    def _pseudo(self, i: int) -> bool:
        t = self.tokens[i]
        return bool(_PSEUDO_NEGATIONS.match(self.text, t.start))

    def clause(self, i: int) -> int:
        """Which clause of the text token i is in: a new one starts after ";", a dash, or a comma
        before "and", "but", "while", "which", "who", "although", "making" ..."""
        if not hasattr(self, "_clauses"):
            self._clauses, n = [], 0
            for j, t in enumerate(self.tokens):
                nxt = self.tokens[j + 1].norm if j + 1 < len(self.tokens) else ""
                if t.text in (";", "—", "–") and t.kind == "punct" or (t.text == "," and nxt in _CLAUSE_OPENERS):
                    n += 1
                self._clauses.append(n)
        return self._clauses[i]

    def is_date(self, i: int) -> bool:
        """Is the figure at token i part of a date (a year "1804", a day "21 February")? A date
        belongs to an event, not to the name written next to it."""
        t = self.tokens[i]
        if re.fullmatch(r"1\d{3}|20\d{2}", t.text):
            return True
        near = [self.tokens[j].norm for j in (i - 1, i + 1) if 0 <= j < len(self.tokens)]
        return any(w in _CALENDAR for w in near)

    def core(self, run: int) -> bool:
        """Is a name a doer, not the object of a preposition ("in Rotherham", "of Florida")?"""
        for t in reversed(self.tokens[max(0, self.runs[run][0] - 3):self.runs[run][0]]):
            if t.kind == "punct" or t.name >= 0:
                return True
            if t.norm in _PREPOSITIONS:
                return False
        return True

    def role(self, first: int) -> str | None:
        """The role preposition just before a name ("to police watchdog chief Sir Tom"), if any."""
        for t in reversed(self.tokens[max(0, first - 4):first]):
            if t.kind == "punct" or (t.name >= 0):
                return None
            if t.norm in _ROLES:
                return t.norm
            if t.norm == "by":
                return None
        return None


@dataclass(frozen=True)
class Support:
    """Where a passage supports a claim: character offsets into the passage text."""

    passage: int  # 0-based
    start: int
    end: int


@dataclass
class ClaimVerdict:
    """One sentence of a reply, checked."""

    sentence: str
    markers: tuple[int, ...]
    support: Support | None
    reason: str | None = None
    #: The marker numbers that point at no passage (dropped).
    invalid_markers: tuple[int, ...] = ()

    @property
    def supported(self) -> bool:
        return self.support is not None


class Verifier(Protocol):
    """A second opinion on a supported claim (the trained reader): None agrees, a string says why not."""

    def objection(self, question: str, claim: str, evidence: str) -> str | None: ...


@dataclass
class _Occurrence:
    first: int  # content positions
    last: int
    tokens: tuple[int, int]  # token indices
    sentence: int = 0


def _distance(a: _Occurrence, b: _Occurrence) -> int:
    """Content words between two occurrences, a sentence boundary counting SENTENCE_GAP more."""
    if a.first > b.last:
        a, b = b, a
    return max(0, b.first - a.last - 1) + SENTENCE_GAP * abs(a.sentence - b.sentence)


def _clean_claim(sentence: str) -> str:
    """The claim without a lead-in about the passages ("According to the passage, ...")."""
    text = _META.sub("", sentence, count=1)
    text = _ANSWER_WORD.sub("", text)
    return text.strip() or sentence


def _capitalised_inside(texts: Sequence[str]) -> frozenset[str]:
    """Words written with a capital other than at a sentence's start: names."""
    out: set[str] = set()
    for text in texts:
        for m in re.finditer(r"(?<=[^\s.!?\"'“‘(\[])\s+([A-Z][^\W\d_]*)", text):
            out.add(_fold(m.group(1)).removesuffix("'s"))
    return frozenset(out)


class ClaimChecker:
    """Checks reply sentences against numbered passages (texts); one checker per reply."""

    def __init__(self, passages: Sequence[str], question: str = "", verifier: Verifier | None = None) -> None:
        self.passages = list(passages)
        self.question = question
        self.verifier = verifier
        self._known = _capitalised_inside(self.passages)
        self._sentences = [sentence_spans(p) for p in self.passages]
        self._parsed: dict[int, _Text] = {}

    def _passage(self, index: int) -> _Text:
        if index not in self._parsed:
            self._parsed[index] = _Text(self.passages[index], self._sentences[index], self._known)
        return self._parsed[index]

    def check_reply(self, reply: str) -> list[ClaimVerdict]:
        """Every sentence of the reply, with the passage sentence(s) that support it or why none does."""
        return [self.check(s.text, s.markers) for s in split_reply(reply)]

    def check(self, sentence: str, markers: Sequence[int] = ()) -> ClaimVerdict:
        """One sentence: supported by a passage it cites (any passage when it cites none).
        Markers still in the sentence count as its citations."""
        sentence, written = strip_markers(sentence)
        markers = tuple(markers) or tuple(written)
        valid = tuple(m for m in dict.fromkeys(markers) if 1 <= m <= len(self.passages))
        invalid = tuple(m for m in dict.fromkeys(markers) if not 1 <= m <= len(self.passages))
        candidates = [m - 1 for m in valid] if markers else list(range(len(self.passages)))
        if markers and not valid:
            return ClaimVerdict(sentence, tuple(markers), None, "cites no passage that was given", invalid)
        claim_text = _clean_claim(sentence)
        known = self._known | _capitalised_inside([claim_text])
        claim = _Text(claim_text, [(0, len(claim_text))], known)
        units = claim.units()
        if not units:
            return ClaimVerdict(sentence, tuple(markers), None, "says nothing to check", invalid)
        reasons: list[tuple[int, str]] = []
        for index in candidates:
            found, rank, reason = self._supported_in(index, claim, units)
            if found is not None:
                objection = None
                if self.verifier is not None and self.question:
                    evidence = self.passages[index][found.start:found.end]
                    objection = self.verifier.objection(self.question, claim_text, evidence)
                if objection is None:
                    return ClaimVerdict(sentence, tuple(markers), found, None, invalid)
                rank, reason = 3, objection
            if reason:
                reasons.append((rank, reason))
        # The reason from the passage that came closest (it has the words, not their relations).
        best = max(reasons, key=lambda r: r[0])[1] if reasons else "no passage it cites says this"
        return ClaimVerdict(sentence, tuple(markers), None, best, invalid)

    # --- one passage -------------------------------------------------------------------------------

    def _supported_in(self, index: int, claim: _Text, units: list[_Unit]) -> tuple[Support | None, int, str | None]:
        text = self._passage(index)
        spans = self._sentences[index]
        best: tuple[int, str] = (-1, "the passage does not say this")
        for a in range(len(spans)):
            for b in (a, a + 1):
                if b >= len(spans):
                    continue
                reason = self._window(text, a, b, claim, units)
                if reason is None:
                    return Support(index, spans[a][0], spans[b][1]), 0, None
                rank = 0 if reason.startswith("the passage does not say") else 1 if reason.startswith("its words") else 2
                if rank > best[0]:
                    best = (rank, reason)
        return None, best[0], best[1]

    def _window(self, text: _Text, a: int, b: int, claim: _Text, units: list[_Unit]) -> str | None:
        """None when sentences a..b of the passage support the claim, else why not."""
        tokens = [i for i, t in enumerate(text.tokens) if a <= t.sentence <= b]
        if not tokens:
            return "empty"
        lo, hi = tokens[0], tokens[-1]
        options: list[list[_Occurrence]] = []
        kept: list[_Unit] = []
        for unit in units:
            found = self._occurrences(text, lo, hi, a, b, claim, unit)
            if not found and unit.kind == "word" and unit.key in _LIGHT_VERBS:
                continue  # "Ofsted made 42 inspections": a verb that says little may be the model's own
            if not found:
                return f"the passage does not say '{_unit_text(claim, unit)}'"
            options.append(found)
            kept.append(unit)
        units = kept
        path = _align(options, self._pair_check(text, lo, hi, claim, units))
        if path is None:
            return "its words are not together in the passage"
        chosen = [options[i][j] for i, j in enumerate(path)]
        reason = self._attachment(text, lo, hi, claim, units, chosen) or \
            self._figure_owner(text, lo, hi, claim, units, chosen)
        if reason:
            return reason
        claim_neg = claim.negations([u.first for u in units]) % 2
        source_neg = text.negations([o.tokens[0] for o in chosen], lo) % 2
        if claim_neg != source_neg:
            return "not what the passage says: it is negated in one and not the other"
        for unit, occurrence in zip(units, chosen):
            if unit.kind == "name":
                role = claim.role(unit.first)
                if role is not None and text.role(occurrence.tokens[0]) != role:
                    return f"gives '{_unit_text(claim, unit)}' another role than the passage does"
        return None

    def _occurrences(self, text: _Text, lo: int, hi: int, a: int, b: int, claim: _Text,
                     unit: _Unit) -> list[_Occurrence]:
        out: list[_Occurrence] = []
        tokens = text.tokens
        if unit.kind == "figure":
            assert unit.figure is not None
            for i in range(lo, hi + 1):
                t = tokens[i]
                if t.kind == "figure" and t.figure is not None and t.figure.same_number(unit.figure) \
                        and t.figure.hedged_alike(unit.figure):
                    out.append(_Occurrence(t.pos, t.pos, (i, i), t.sentence))
            return out
        if unit.kind == "name":
            for run, (r0, r1) in enumerate(text.runs):
                if r0 < lo or r1 > hi:
                    continue
                if self._same_entity(unit, text, run, claim):
                    out.append(_Occurrence(tokens[r0].pos, tokens[r1].pos, (r0, r1), tokens[r0].sentence))
            if not out and len(unit.names) == 1:
                # A one-word name the passage writes in lower case ("Hydrogen" / "hydrogen").
                out.extend(self._word_occurrences(text, lo, hi, key(next(iter(unit.names)))))
            if not out and self._licensed(unit.names, frozenset()):
                # "the wars" for "the Wars of Religion", "the university" for "the University of
                # Chicago": a name some passage writes in full.
                heads = {key(w) for w in unit.names if w not in _STOP and w.isalpha()}
                for i in range(lo + 1, hi + 1):
                    t = tokens[i]
                    if t.kind == "word" and not t.cap and t.pos >= 0 and key(t.norm) in heads \
                            and tokens[i - 1].norm == "the":
                        out.append(_Occurrence(t.pos, t.pos, (i - 1, i), t.sentence))
            # "He told the BBC ...": a sentence opening with a pronoun stands for the names of the
            # sentence before it (inside the window or just before it).
            for s in (a, b):
                start = next((i for i in range(lo, hi + 1) if tokens[i].sentence == s), None)
                if start is None:
                    continue
                # A pronoun among the sentence's first few words: "He wrote", "In one experiment he found".
                # Or a definite description: "As of 2015, the city's population ..." after "Fresno ...".
                claim_keys = {key(t.norm) for t in claim.tokens if t.kind == "word"}
                opener = next((i for i in range(start, min(start + PRONOUN_REACH, hi + 1))
                               if tokens[i].sentence == s and (tokens[i].norm in _PRONOUNS - {"his", "her", "their", "its"}
                                                                or _description(tokens, i, claim_keys))), None)
                if opener is None:
                    continue
                before = [run for run, (r0, _) in enumerate(text.runs) if tokens[r0].sentence == s - 1]
                if any(self._same_entity(unit, text, run, claim) for run in before):
                    pos = next((t.pos for t in tokens[opener:hi + 1] if t.pos >= 0), 0)
                    out.append(_Occurrence(pos, pos, (opener, opener), s))
            return out
        out = self._word_occurrences(text, lo, hi, unit.key)
        # "the report's implications" for "its implications" after a sentence about the report.
        if not re.search(r"['’]s$", claim.tokens[unit.first].text):
            return out
        named = {text.tokens[i].sentence for i in range(len(text.tokens))
                 if text.tokens[i].kind == "word" and key(text.tokens[i].norm) == unit.key}
        for i in range(lo, hi + 1):
            t = tokens[i]
            if t.norm in ("its", "their") and t.sentence - 1 in named:
                pos = next((u.pos for u in tokens[i:hi + 1] if u.pos >= 0), t.pos)
                out.append(_Occurrence(pos, pos, (i, i), t.sentence))
        return out

    @staticmethod
    def _word_occurrences(text: _Text, lo: int, hi: int, wanted: str) -> list[_Occurrence]:
        out = []
        for i in range(lo, hi + 1):
            t = text.tokens[i]
            if t.kind == "word" and t.pos >= 0 and key(t.norm) == wanted:
                out.append(_Occurrence(t.pos, t.pos, (i, i), t.sentence))
        return out

    def _licensed(self, names: frozenset[str], part: frozenset[str]) -> bool:
        """May `part` of a name stand for the whole name? Only if a passage writes the whole
        name, and no other name the passages write starts the same way ("United Nations" may be
        its General Assembly or its Environment Programme)."""
        if not hasattr(self, "_full_names"):
            self._full_names = {self._passage(i).name_words(r) for i in range(len(self.passages))
                                for r in range(len(self._passage(i).runs))}
        wholes = {full for full in self._full_names if part < full}
        if not part:
            return any(names <= full for full in self._full_names)
        return any(names <= full for full in wholes) and all(full <= names or names <= full for full in wholes)

    def _same_entity(self, unit: _Unit, text: _Text, run: int, claim: _Text) -> bool:
        """Does a passage name stand for the claim's name? The same words; part of them ("Sir
        Tom" for "Sir Tom Winsor", when some passage writes the whole name); or initials
        ("HMIC" for "Her Majesty's Inspectorate of Constabulary")."""
        words = text.name_words(run)
        if unit.names and words:
            if unit.names <= words:
                return True
            if words < unit.names:
                return self._licensed(unit.names, words)
            if unit.names & words:
                return False
        initials = text.initials(run)
        claim_initials = claim.initials(_run_of(claim, unit))
        if len(unit.names) == 1 and len(initials) > 1 and next(iter(unit.names)) == initials:
            return True
        return len(words) == 1 and len(claim_initials) > 1 and next(iter(words)) == claim_initials

    def _pair_check(self, text: _Text, lo: int, hi: int, claim: _Text,
                    units: list[_Unit]) -> Callable[[int, _Occurrence, _Occurrence, int], bool]:
        """May units i and i+1 lie d content words apart? Beyond REACH only for a name or a
        figure, up to LONG_REACH, with no other doer name (or other figure) between them."""
        claim_names = [u for u in units if u.kind == "name"]
        claim_figures = [u.figure for u in units if u.figure is not None]
        doers = [(text.tokens[r0].pos, text.tokens[r1].pos) for run, (r0, r1) in enumerate(text.runs)
                 if lo <= r0 and r1 <= hi and text.core(run)
                 and not any(self._same_entity(u, text, run, claim) for u in claim_names)]
        others = [t.pos for t in text.tokens[lo:hi + 1] if t.kind == "figure" and t.figure is not None
                  and not any(t.figure.same_number(f) for f in claim_figures)]

        def near(i: int, a: _Occurrence, b: _Occurrence, d: int) -> bool:
            if claim.clause(units[i].last) != claim.clause(units[i + 1].first):
                return True  # clauses of a claim may come in any order; each must hold together
            if d > LONG_REACH or a.sentence != b.sentence:
                return False
            if any(t.norm in _CLAIM_PRONOUNS for t in claim.tokens[units[i].last + 1:units[i + 1].first]):
                return True  # "more than half of them revealed": a pronoun stands for words the passage spells out
            kinds = {units[i].kind, units[i + 1].kind}
            if not kinds & {"name", "figure"}:
                return False
            x, y = min(a.last, b.last), max(a.first, b.first)
            if "name" in kinds and any(x < p0 and p1 < y for p0, p1 in doers):
                return False
            return not ("figure" in kinds and any(x < p < y for p in others))

        return near

    def _figure_owner(self, text: _Text, lo: int, hi: int, claim: _Text, units: list[_Unit],
                      chosen: list[_Occurrence]) -> str | None:
        """A figure belongs to the name written next to it ("Peru with 13%", "in Rotherham
        1,400"): if that is not one of the claim's names while the claim's are further off, the
        claim gives the figure to someone else."""
        names = [(u, o) for u, o in zip(units, chosen) if u.kind == "name"]
        if not names:
            return None
        for unit, occurrence in zip(units, chosen):
            if unit.kind != "figure" or text.is_date(occurrence.tokens[0]):
                continue
            sentence = occurrence.sentence
            own = min((_distance(o, occurrence) for _, o in names), default=99)
            for run, (r0, r1) in enumerate(text.runs):
                if text.tokens[r0].sentence != sentence or not text.name_words(run):
                    continue
                if any(self._same_entity(u, text, run, claim) for u, _ in names):
                    continue
                rival = _Occurrence(text.tokens[r0].pos, text.tokens[r1].pos, (r0, r1), sentence)
                d = _distance(rival, occurrence)
                if d <= NEAR and own > d + MARGIN:
                    return (f"gives '{_unit_text(claim, unit)}' to the wrong name: the passage gives it to"
                            f" '{text.text[text.tokens[r0].start:text.tokens[r1].end]}'")
        return None

    def _attachment(self, text: _Text, lo: int, hi: int, claim: _Text, units: list[_Unit],
                    chosen: list[_Occurrence]) -> str | None:
        """A word the claim puts next to one of its names or figures must not clearly belong to
        another name or figure of the passage."""
        claim_names = [u for u in units if u.kind == "name"]
        claim_figures = [u.figure for u in units if u.kind == "figure"]
        rival_names = [(r0, r1) for run, (r0, r1) in enumerate(text.runs)
                       if lo <= r0 and r1 <= hi and not any(self._same_entity(u, text, run, claim) for u in claim_names)
                       and text.name_words(run)]
        rival_figures = [i for i in range(lo, hi + 1) if text.tokens[i].kind == "figure"
                         and not any(f is not None and text.tokens[i].figure.same_number(f)  # type: ignore[union-attr]
                                     for f in claim_figures)
                         and not text.is_date(i)]
        for i in range(len(units) - 1):
            for anchor, other in ((i, i + 1), (i + 1, i)):
                unit = units[anchor]
                if unit.kind not in ("name", "figure") or units[other].kind == unit.kind == "name":
                    continue
                if any(units[j].kind == "figure" and text.is_date(chosen[j].tokens[0]) for j in (anchor, other)):
                    continue  # a year dates an event; it belongs to no name
                target = chosen[other]
                own = _distance(chosen[anchor], target)
                rivals = rival_names if unit.kind == "name" else [(r, r) for r in rival_figures]
                for r0, r1 in rivals:
                    if text.tokens[r0].sentence != text.tokens[target.tokens[0]].sentence:
                        continue
                    rival = _Occurrence(text.tokens[r0].pos, text.tokens[r1].pos, (r0, r1), text.tokens[r0].sentence)
                    d = _distance(rival, target)
                    mine = chosen[anchor]
                    # "X, of Y, did Z": a name between, in the same sentence, is an aside.
                    aside = unit.kind == "name" and mine.sentence == target.sentence and \
                        min(mine.first, target.first) < rival.first and rival.last < max(mine.last, target.last)
                    if d <= NEAR and own > d + MARGIN and not aside:
                        return (f"attaches '{_unit_text(claim, units[other])}' to '{_unit_text(claim, unit)}'; the passage"
                                f" attaches it to '{text.text[text.tokens[r0].start:text.tokens[r1].end]}'")
        return None




def _description(tokens: list[_Token], i: int, claim_keys: set[str]) -> bool:
    """Is token i "the" before a common noun the claim does not use ("the city", "the body")?"""
    if tokens[i].norm != "the" or i + 1 >= len(tokens):
        return False
    noun = tokens[i + 1]
    return noun.kind == "word" and not noun.cap and noun.pos >= 0 and noun.norm.isalpha() \
        and key(noun.norm) not in claim_keys


def _run_of(claim: _Text, unit: _Unit) -> int:
    return claim.tokens[unit.first].name


def _unit_text(claim: _Text, unit: _Unit) -> str:
    return claim.text[claim.tokens[unit.first].start:claim.tokens[unit.last].end]


def _align(options: list[list[_Occurrence]],
           near: "Callable[[int, _Occurrence, _Occurrence, int], bool]") -> list[int] | None:
    """One occurrence per claim unit such that each unit lies near the next (`near(i, a, b, d)`
    for units i and i+1 at distance d); the reading with the least total spread (dynamic
    programming), or None."""
    inf = float("inf")
    cost = [[0.0] * len(options[0])]
    back: list[list[int]] = [[-1] * len(options[0])]
    for i in range(1, len(options)):
        row, links = [], []
        for occ in options[i]:
            best, link = inf, -1
            for j, prev in enumerate(options[i - 1]):
                if cost[-1][j] == inf:
                    continue
                d = _distance(prev, occ)
                if d > REACH and not near(i - 1, prev, occ, d):
                    continue
                if cost[-1][j] + d < best:
                    best, link = cost[-1][j] + d, j
            row.append(best)
            links.append(link)
        cost.append(row)
        back.append(links)
    last = min(range(len(cost[-1])), key=lambda j: cost[-1][j])
    if cost[-1][last] == inf:
        return None
    path = [last]
    for i in range(len(options) - 1, 0, -1):
        path.append(back[i][path[-1]])
    return path[::-1]


@dataclass
class ReaderVerifier:
    """The trained extractive reader as a second opinion: asked the user's question over the
    supporting sentences, where it answers (confidence at its threshold) its answer must be
    in the claim. A claim that shares no word with the question is about something else and
    is left alone."""

    reader: object  # rag.answer.span_reader.SpanReader
    _cache: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def objection(self, question: str, claim: str, evidence: str) -> str | None:
        asked = {key(w) for w in _words(question) if w not in _STOP}
        said = {key(w) for w in _words(claim) if w not in _STOP}
        if not asked & said:
            return None
        if (question, evidence) not in self._cache:
            self._cache[(question, evidence)] = self._answer(question, evidence)
        answer = self._cache[(question, evidence)]
        if answer is None:
            return None
        wanted = [w for w in _words(answer) if w not in _STOP] or _words(answer)
        claim_words = set(_words(claim)) | {key(w) for w in _words(claim)}
        claim_figures = figures(claim)
        for w in wanted:
            if w in claim_words or key(w) in claim_words:
                continue
            if any(f.same_number(g) for f in figures(w) for g in claim_figures):
                continue
            return f"the reader finds the answer '{answer}' there, which the claim does not give"
        return None

    def _answer(self, question: str, evidence: str) -> str | None:
        readings = self.reader.read(question, [evidence])  # type: ignore[attr-defined]
        if not readings:
            return None
        best = readings[0]
        if self.reader.confidence(best) < self.reader.threshold:  # type: ignore[attr-defined]
            return None
        span = evidence[best.start:best.end].strip()
        return span or None


def _words(text: str) -> list[str]:
    return [_fold(m.group()).removesuffix("'s") for m in re.finditer(r"[^\W_]+(?:['’][^\W_]+)*", text)]


def claim_verifier(span_reader: object | None) -> Verifier | None:
    """The reader as a second opinion when RAG_CLAIM_VERIFIER=reader and a reader is loaded;
    None otherwise (the rules alone decide: their figures are in eval/claims.jsonl's report)."""
    import os

    if span_reader is None or os.environ.get("RAG_CLAIM_VERIFIER", "").strip().lower() != "reader":
        return None
    return ReaderVerifier(span_reader)


def check_reply(reply: str, passages: Sequence[str], question: str = "",
                verifier: Verifier | None = None) -> list[ClaimVerdict]:
    """Every sentence of `reply` checked against the numbered `passages` (1-based markers)."""
    return ClaimChecker(passages, question, verifier).check_reply(reply)
