"""The claim check: who did what, with which figures, where, and whether or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.claims import ClaimChecker, ReaderVerifier, check_reply
from rag.answer.markers import split_reply
from rag.answer.span_reader import Reading, SpanReader
from rag.evaluation.claims import DEFAULT_CLAIMS, load_claims, score_claims
from rag.text.numbers import figures

REPO = Path(__file__).resolve().parents[1]
ABUSE = ("A report published in 2014 found that in Rotherham 1,400 children were sexually abused between 1997 and"
         " 2013; while in Oxford more than 300 were violently abused and tortured over more than 15 years.\n"
         "In Rotherham, those in authority were accused of turning a blind eye to the abuse.")
WATCHDOG = ("Ofsted boss Sir Michael Wilshaw said that there are 'serious weaknesses' in how a string of forces deal"
            " with the issue in a damning letter to police watchdog chief Sir Tom Winsor.\n"
            "In his reply, Sir Tom, who leads watchdog Her Majesty's Inspectorate of Constabulary, said the body is"
            " currently assessing how well police deal with vulnerable victims and child safety.")
LGA = "The LGA has called for an independent review to discover \"what has gone wrong\" with the watchdog."


def _supported(reply: str, *passages: str) -> bool:
    verdicts = check_reply(reply, passages)
    return bool(verdicts) and all(v.supported for v in verdicts)


@pytest.mark.parametrize("reply", [
    "Sir Michael Wilshaw leads the police watchdog [1].",  # the deed of the other man named
    "Sir Michael Wilshaw is the police watchdog chief [1].",
    "Sir Tom Winsor wrote a damning letter to Ofsted boss Sir Michael Wilshaw [1].",  # roles swapped
])
def test_a_deed_given_to_the_wrong_person_is_rejected(reply: str):
    assert not _supported(reply, WATCHDOG)


@pytest.mark.parametrize("reply", [
    "In Oxford 1,400 children were sexually abused [1].",  # the other place's figure
    "In Rotherham more than 300 children were sexually abused [1].",  # the other figure
    "In Rotherham 300 children were sexually abused [1].",
    "A report published in 2015 found that 1,400 children were sexually abused in Rotherham [1].",
    "In Derby 1,400 children were sexually abused [1].",  # a place the passage does not name
    "In Rotherham 1,400 children were sexually abused in care homes [1].",  # an addition
    "In Rotherham, those in authority were not accused of turning a blind eye to the abuse [1].",  # negated
])
def test_swapped_figures_other_places_additions_and_negations_are_rejected(reply: str):
    assert not _supported(reply, ABUSE)


def test_a_dropped_negation_is_rejected_and_a_kept_one_accepted():
    assert not _supported("The LGA did not call for an independent review [1].", LGA)
    assert _supported("The LGA has called for an independent review [1].", LGA)
    assert _supported("Forces were not quick enough [1].", "There were cases where forces were not quick enough.")
    assert not _supported("Forces were quick enough [1].", "There were cases where forces were not quick enough.")


@pytest.mark.parametrize("reply", [
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1].",
    "In Rotherham 1400 children were sexually abused between 1997 and 2013 [1].",
    "1,400 children were sexually abused in Rotherham between 1997 and 2013, a 2014 report found [1].",
    "In Oxford more than 300 were violently abused and tortured [1].",
    "In Rotherham, those in authority were accused of turning a blind eye to the abuse.",  # no marker
    "According to the passage, in Rotherham 1,400 children were sexually abused [1].",
])
def test_true_claims_are_kept(reply: str):
    assert _supported(reply, ABUSE)


def test_initials_stand_for_the_name_they_abbreviate():
    assert _supported("Sir Tom leads HMIC [1].", WATCHDOG)


@pytest.mark.parametrize("reply, markers", [
    ("A [1, 4].", (1, 4)), ("A [1][2].", (1, 2)), ("A [1-3].", (1, 2, 3)), ("A [Passage 2].", (2,)),
    ("A (Passage 2).", (2,)), ("A [^2].\n\n[^2]: Passage 2", (2,)), ("A [Passages 1 and 3].", (1, 3)),
    ("A. [2]", (2,)), ("A.", ()), ("Born in 1532 (died 1590) [1].", (1,)),
])
def test_citation_markers_in_every_shape(reply: str, markers: tuple[int, ...]):
    (sentence,) = split_reply(reply)
    assert sentence.markers == markers and "[" not in sentence.text and "Passage" not in sentence.text


def test_a_sentence_citing_the_wrong_passage_is_rejected_and_markers_to_no_passage_are_ignored():
    checker = ClaimChecker([LGA, ABUSE])
    assert not checker.check("The LGA has called for an independent review.", (2,)).supported
    verdict = checker.check("The LGA has called for an independent review.", (1, 7))
    assert verdict.supported and verdict.invalid_markers == (7,)
    assert not checker.check("The LGA has called for an independent review.", (9,)).supported


def test_the_support_is_the_sentence_that_says_it():
    verdict = ClaimChecker([ABUSE]).check("In Rotherham 1400 children were sexually abused [1].", (1,))
    assert verdict.support is not None
    assert ABUSE[verdict.support.start:verdict.support.end].startswith("A report published in 2014")
    assert ABUSE[verdict.support.end - 1] == "."


def test_figures_compare_by_value_and_hedge():
    (a,), (b,), (c,) = figures("1,400"), figures("1400"), figures("more than 1,400")
    assert a.same_number(b) and a.hedged_alike(b) and a.same_number(c) and not a.hedged_alike(c)
    assert figures("two million")[0].same_number(figures("2 million")[0])
    assert figures("about 300")[0].hedged_alike(figures("300")[0])
    assert [f.value for f in figures("in 2015-16")] == [2015, 2016]


class _FakeReader(SpanReader):
    """Answers every question with the span `answer` wherever it occurs in the text."""

    name, sha256, signal, threshold = "fake", None, "margin", 0.0

    def __init__(self, answer: str) -> None:
        self.answer = answer

    def read(self, question: str, texts):  # type: ignore[no-untyped-def]
        out = []
        for i, text in enumerate(texts):
            at = text.find(self.answer)
            if at >= 0:
                out.append(Reading(i, at, at + len(self.answer), 5.0, 0.0, None))
        return out


def test_the_reader_as_verifier_rejects_a_claim_without_the_answer_it_finds():
    passage = "Sir Tom Winsor received a damning letter from Sir Michael Wilshaw."
    question = "Who wrote the damning letter?"
    claim = "Sir Tom Winsor received a damning letter [1]."
    assert check_reply(claim, [passage], question)[0].supported  # the rules alone accept it
    verifier = ReaderVerifier(_FakeReader("Sir Michael Wilshaw"))
    verdict = check_reply(claim, [passage], question, verifier)[0]
    assert not verdict.supported and "Sir Michael Wilshaw" in (verdict.reason or "")
    good = "Sir Michael Wilshaw sent a damning letter to Sir Tom Winsor [1]."
    assert check_reply(good.replace("sent", "wrote"), ["Sir Michael Wilshaw wrote a damning letter to Sir Tom Winsor."],
                       question, verifier)[0].supported


def test_the_labelled_set_meets_its_targets():
    cases = load_claims(REPO / DEFAULT_CLAIMS)
    assert len(cases) >= 100
    kinds = {c.kind for c in cases}
    assert kinds == {"correct", "wrong_subject", "swapped_figure", "other_place", "negation", "unsupported_addition"}
    summary = score_claims(cases)
    assert summary["false_rejected_rate"] >= 0.95, summary["wrong"]
    assert summary["true_kept_rate"] >= 0.90, summary["wrong"]
