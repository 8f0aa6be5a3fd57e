"""The pieces the extractive answerer reads questions and sentences with: details a question
names, the kind of answer it wants, and the names a sentence refers to without spelling out."""

from __future__ import annotations

import pytest

from rag.answer.language.answer_types import focus_words, has_type, question_type
from rag.answer.language.details import Vocabulary, details, missing_details, numbers_missing_near
from rag.answer.language.polarity import contradicts, opposed
from rag.answer.language.references import NAME_LOOKBACK, referred_terms
from rag.text.terms import stem

ARTICLE = (
    "Broadcasting rights\n\nIn 1992 the Premier League sold its rights to BSkyB. Microsoft renamed SkyDrive. "
    "The Scottish Football Association objected."
)


@pytest.mark.parametrize(
    "question",
    [
        "How much did BSkyB pay for the Primier League rights?",  # a typo in a name
        "What did Microsoft rename Sky Drive to?",  # a compound split in two
        "What did the Premier League sell in 1992?",
        "Did Scotland object?",  # "Scotland" ~ "Scottish"
    ],
)
def test_a_question_s_details_are_found_despite_typos_and_split_compounds(question: str):
    assert missing_details(question, Vocabulary(ARTICLE)) == []


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("How many children were abused in Derby?", ["derby"]),
        ("What did the Premier League sell in 1993?", ["1993"]),  # numbers match exactly
        ("What did Apple rename SkyDrive to?", ["apple"]),
        ("Did Leeds object?", ["leeds"]),
    ],
)
def test_details_the_article_never_mentions_are_reported(question: str, missing: list[str]):
    assert missing_details(question, Vocabulary(ARTICLE)) == missing


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Who leads HM Inspectorate of Constabulary?", []),  # "HM": Her Majesty's
        ("Who leads HMIC?", []),
        ("What did the NPCC say?", []),  # the National Police Chiefs' Council
        ("Who leads HM Inspectorate of Prisons?", ["prisons"]),
        ("What did the BBC say?", ["bbc"]),  # initials of no name in the article
    ],
)
def test_an_abbreviation_of_a_name_in_the_article_is_mentioned(question: str, missing: list[str]):
    article = ("Sir Tom, who leads watchdog Her Majesty's Inspectorate of Constabulary, replied. "
               "The National Police Chiefs' Council said it would respond.")
    assert missing_details(question, Vocabulary(article)) == missing


def test_details_are_names_after_the_first_word_and_numbers():
    assert [d.word for d in details("Who paid BSkyB 304 pounds in London?")] == ["bskyb", "304", "london"]
    assert details("What did they say?") == []


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("What did the California Times define?", ["california times"]),  # both words, never together
        ("What did the Los Angeles Times define?", []),
        ("How high is Victoria's Mount Bogong?", []),  # a possessive ends a name
        ("Who did Emma Marry?", []),  # "Marry" is a word the article writes in lower case
        ("What did Sky Drive Pro replace?", []),  # joined words
        ("Who bought the Primier League rights?", []),  # a typo
        ("Who ruled the University of Victoria?", ["university victoria"]),
        ("Where is Redlands University?", ["redlands university"]),  # names do not run across a comma
        ("Who chairs the National Police Chiefs' Council?", []),
    ],
)
def test_names_of_several_words_must_stand_together(question: str, missing: list[str]):
    article = (
        "In 1900 the Los Angeles Times defined southern California. Victoria's highest peak is Mount Bogong, "
        "and its University of Melbourne is old. Emma married him. SkyDrive Pro replaced Windows Live Mesh. "
        "BSkyB bought the Premier League rights. It lists the University of Redlands, University of San Diego and "
        "the National Police Chiefs' Council."
    )
    assert missing_details(question, Vocabulary(article)) == missing


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Who played the Doctor on stage in the 70's?", []),  # a decade: the 1970s
        ("Who played the Doctor on stage in the 80's?", ["80"]),
        ("What was the show's fate during WWII?", []),  # a Roman numeral is kept whole: World War II
        ("What did WWI change?", ["wwi"]),
        ("What did the Sydney Times say?", ["sydney times"]),
    ],
)
def test_decades_and_roman_numerals_are_read_as_the_article_writes_them(question: str, missing: list[str]):
    article = (
        "Doctor Who\n\nDoctor Who was relaunched in 2005 by Russell T Davies. In the early 1970s, Jon Pertwee "
        "played the Doctor on stage. In World War II, it was recognised. Each Christmas special was long; "
        "DVDs of Doctor Who are sold in Sydney, where The Times reviewed it."
    )
    assert missing_details(question, Vocabulary(article)) == missing


def test_a_question_joining_two_articles_names_details_of_both():
    answer_article = Vocabulary("Ofsted inspects councils. MPs questioned the performance of Ofsted.")
    other = Vocabulary("Sir Tom Winsor replied to the letter from the Ofsted boss.")
    question = "MPs questioned which organisation, whose boss wrote to Sir Tom Winsor?"
    assert missing_details(question, answer_article) == ["sir", "tom", "winsor"]
    assert missing_details(question, answer_article, [other]) == []
    assert missing_details("What did Rochdale say?", answer_article, [other]) == ["rochdale"]


def test_a_decade_the_question_gives_is_near_its_answer_as_the_article_writes_it():
    text = "In the early 1970s, Jon Pertwee played the Doctor on stage."
    assert numbers_missing_near("Who played the Doctor in the 70's?", text, 0, len(text)) == []
    assert numbers_missing_near("Who played the Doctor in the 80's?", text, 0, len(text)) == ["80"]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many children were abused?", "number"),
        ("What century did the Normans arrive?", "date"),
        ("When did he write?", "date"),
        ("Who led Richard's troops when Cyprus was conquered?", "entity"),  # the first question phrase decides
        ("Where was Dyrrachium?", "place"),
        ("What did the LGA call for?", "other"),
        ("What is the population of Melbourne?", "number"),
        ("What was the death toll of the floods?", "number"),
        ("What is the capital of Victoria?", "place"),
        ("What is the size of Melbourne?", "other"),  # "second-largest" answers it, not a number
    ],
)
def test_question_type_follows_the_first_question_phrase(question: str, kind: str):
    assert question_type(question) == kind


def test_a_year_is_no_count():
    assert not has_type("By 1901 Melbourne had become the largest city.", "number", set())
    assert not has_type("The gold rush of the 1850s changed the colony.", "number", set())
    assert has_type("In 2014, 1,400 children were abused.", "number", set())
    assert has_type("About 2000 people marched.", "number", set())


def test_dates_include_centuries_and_decades():
    assert has_type("They settled there in the 10th century.", "date", {"what", "century"})
    assert has_type("It grew in the 1990s.", "date", set())
    assert not has_type("It grew a lot.", "date", set())


def test_focus_is_what_the_question_asks_about():
    assert focus_words("Who commissioned the report that found poor information sharing?") == ["commissioned"]
    assert focus_words("Which watchdog does Sir Tom lead?") == ["watchdog"]
    assert focus_words("What did the report say?") == []


def _refers(text: str, sentence: str) -> set[str]:
    start = text.index(sentence)
    return set(referred_terms(text, start, start + len(sentence)))


def test_a_shortened_name_means_the_full_name():
    text = "Ofsted wrote to Sir Tom Winsor. In his reply, Sir Tom said the body is assessing police."
    assert stem("winsor") in _refers(text, "In his reply, Sir Tom said the body is assessing police.")


def test_a_leading_pronoun_means_the_person_named_before_with_their_description():
    text = (
        "David Simmonds, chairman of the Local Government Association's children and young people board, "
        "said the report made for uncomfortable reading. He told the BBC that councils would reflect."
    )
    referred = _refers(text, "He told the BBC that councils would reflect.")
    assert {stem("david"), stem("simmonds"), stem("chairman"), stem("board")} <= referred


def test_an_acronym_means_the_name_it_abbreviates():
    text = "The Local Government Association met. The LGA has called for a review. The LGA's board agreed."
    assert {stem("local"), stem("government"), stem("association")} <= _refers(text, "The LGA has called for a review.")
    assert stem("association") in _refers(text, "The LGA's board agreed.")
    assert "lga" in _refers(text, "The Local Government Association met.")


def test_references_look_back_a_bounded_distance():
    far = "Sir Tom Winsor spoke. " + "Nothing happened then. " * (NAME_LOOKBACK // 20) + "Sir Tom agreed."
    assert stem("winsor") not in _refers(far, "Sir Tom agreed.")
    near = "Sir Tom Winsor spoke. Sir Tom agreed."
    assert stem("winsor") in _refers(near, "Sir Tom agreed.")


def test_plain_sentences_refer_to_nothing():
    text = "The police were slow. Councils were slower."
    assert _refers(text, "Councils were slower.") == set()


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        ("What is usually not stated using big O?", "Upper bounds are usually stated using big O.", True),
        ("What is usually not stated using big O?", "Constant factors are not stated.", False),
        ("Which councils have no plan?", "Half of councils are failing to put a plan into place.", False),
        ("What is usually stated using big O?", "Upper bounds are usually stated using big O.", False),
    ],
)
def test_a_negated_question_is_not_answered_by_an_assertion(question: str, answer: str, expected: bool):
    assert contradicts(question, answer) is expected


@pytest.mark.parametrize(
    ("question", "answer", "expected"),
    [
        ("What is the least difficult class?", "NP-complete problems are the most difficult problems in NP.", True),
        ("What is the most difficult class?", "NP-complete problems are the most difficult problems in NP.", False),
        ("Is the output simple or complex?", "The output is complex.", False),  # a choice between the two
        ("What is the largest city?", "Sydney is the largest and most populous city.", False),
    ],
)
def test_a_question_is_not_answered_by_its_opposite(question: str, answer: str, expected: bool):
    assert opposed(question, answer) is expected


def test_a_question_s_numbers_must_stand_near_the_answer():
    text = "In 1997 the club was founded. " + "It grew. " * 60 + "In 2005 it won the cup."
    start = text.index("In 2005")
    assert numbers_missing_near("What did the club win in 2005?", text, start, len(text)) == []
    assert numbers_missing_near("What did the club win in 1997?", text, start, len(text)) == ["1997"]


def test_it_said_means_the_report_that_said_it():
    text = "The report – titled 'Out of sight' – said councils were slow. Too few link truancy with abuse, it said."
    assert stem("report") in _refers(text, "Too few link truancy with abuse, it said.")
    assert stem("report") not in _refers("Councils were slow. Too few link truancy with abuse.", "Too few link truancy with abuse.")


def test_the_reader_is_shown_names_as_the_articles_spell_them() -> None:
    """A misspelt name is respelt to the one name of the passages within the allowed typos; a
    name that is not there, or only a lower-case word close to it, stays as typed."""
    from rag.answer.language.details import respelled

    text = "In Rotherham 1,400 children were abused, it said. Oxford and Rochdale, too. Sir Tom Winsor leads HMIC."
    assert respelled("How many children were abused in Rohterham?", text) == "How many children were abused in Rotherham?"
    assert respelled("Who is Tom Winsr?", text) == "Who is Tom Winsor?"
    assert respelled("How many in Rochdael or Rotherham?", text) == "How many in Rochdale or Rotherham?"
    assert respelled("How many in Leeds?", text) == "How many in Leeds?"  # "leads" is no name
    assert respelled("How many in Derby?", text) == "How many in Derby?"
    assert respelled("What is HMIX?", text) == "What is HMIX?"  # four letters: no typo allowed
