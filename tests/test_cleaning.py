"""News boilerplate goes; every sentence of the articles stays."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.cleaning import clean_news_text, normalise

from .conftest import SEEDS

ROTHERHAM = SEEDS / "ofsted-boss-fears-repeat-of-rotherham.txt"
WEEK = SEEDS / "ofsted-council-failings-put-children-at-risk.txt"

# The articles' own sentences, as they read after cleaning (glued words split, NBSP a space).
ARTICLE_SENTENCES = {
    ROTHERHAM: [
        "Ofsted boss fears a repeat of Rotherham's child abuse scandal",
        "Police failures to take child protection seriously could lead to a repeat of the abuse scandals seen in Rotherham and Oxford, the chief inspector of schools has claimed.",
        "Ofsted boss Sir Michael Wilshaw said that there are 'serious weaknesses' in how a string of forces deal with the issue in a damning letter to police watchdog chief Sir Tom Winsor.",
        'He wrote: "My worry is that if chief constables fail to give this issue sufficient priority, we may see a repeat of the sort of catastrophic failings we saw a few years ago in places like Rotherham, Oxford and elsewhere."',
        "A report published in 2014 found that in Rotherham 1,400 children were sexually abused between 1997 and 2013; while in Oxford more than 300 were violently abused and tortured over more than 15 years.",
        "In Rotherham, those in authority were accused of turning a blind eye to the abuse, which was said to have been carried out by men of predominantly Pakistani heritage.",
        "Accusing some forces of failing 'to take their child protection responsibilities seriously', Sir Michael said that more than half of Ofsted's 42 inspections of local authority children's services in 2015-16 revealed 'serious weaknesses' in police contributions to protecting youngsters.",
        "There were cases where forces were not quick enough in telling social workers when children went missing, Sir Michael said, and officers had failed to attend key meetings about child protection, or visits with social workers.",
        "In a number of forces there were delays in flagging up domestic abuse cases to the local council.",
        "In his reply, Sir Tom, who leads watchdog Her Majesty's Inspectorate of Constabulary, said the body is currently assessing how well police deal with vulnerable victims and child safety.",
        'He said: "We will persist in ensuring that the police understand their very high public duty most efficiently and effectively to use their powers, and discharge their responsibilities, in connection with the protection of children."',
        "The National Police Chiefs' Council lead for child protection, Chief Constable Simon Bailey said he will raise Sir Michael's concerns with all chief officers.",
    ],
    WEEK: [
        "Ofsted: council failings put children at risk of sex abuse",
        "Some professionals have 'simply failed' to properly protect young people, says education watchdog",
        "Failings by England's local authorities are putting vulnerable children at risk of sexual exploitation, Ofsted has warned.",
        "A report commissioned by the watchdog's chief inspector, Sir Michael Wilshaw, comes amid a series of high-profile investigations into organised child abuse across the country.",
        'Ofsted has accused councils of being "too slow" in fulfilling their duties to prevent child sexual exploitation, with half of local authorities in England failing to put an action plan into place.',
        "The report – titled 'The sexual exploitation of children: it couldn't happen here, could it?' – said that there was poor information sharing between local authorities, police, health services and others.",
        "Too few authorities are systematically making the connection between child sexual exploitation and children who are missing from school, it said.",
        'Cases in Rotherham, Rochdale, Derby and Oxford have uncovered the previously hidden scale of the problem, as well as a "particular pattern of abuse involving predominantly white British girls as victims and gangs of predominantly Asian heritage men as perpetrators", found the report.',
        "But it warned that child sexual exploitation is not confined to particular ethnic groups or parts of the country.",
        '"It is inherently dangerous for any child protection agency to assume that they need not worry about this type of child abuse because the stereotypical offender or victim profile does not match their own local demographics," it said.',
        'Part of the problem lies in the fact that "some professionals have simply failed to properly apply child protection processes to young people at risk of being sexually exploited", it added.',
        'David Simmonds, chairman of the Local Government Association\'s children and young people board, said the report made for "uncomfortable reading" and conceded that some local authorities have been "too slow to step up to the plate".',
        'He told the BBC that councils would reflect on its implications and ensure that they are doing "everything possible to protect each and every child".',
        'A separate report published by MPs yesterday into the Rotherham cases concluded the local authority had "failed" the victims and questioned the performance of Ofsted itself.',
        'The LGA has called for an independent review to discover "what has gone wrong" with the watchdog.',
    ],
}

BOILERPLATE = [
    "Copenhagen", "Westwood", "Katie Kenyon", "Capitol", "Sarah Everard", "Texas", "Brooklyn", "Shakespeare",
    "Subscribe", "Sign up", "newsletter", "inbox", "Create an account", "Speed Read", "By The Week Staff",
    "Have your say", "echo chamber",
]


@pytest.mark.parametrize("path", [ROTHERHAM, WEEK], ids=lambda p: p.stem)
def test_every_article_sentence_survives(path):
    cleaned = clean_news_text(path.read_text(encoding="utf-8")).text
    for sentence in ARTICLE_SENTENCES[path]:
        assert sentence in cleaned


@pytest.mark.parametrize("path", [ROTHERHAM, WEEK], ids=lambda p: p.stem)
def test_boilerplate_is_removed(path):
    cleaned = clean_news_text(path.read_text(encoding="utf-8")).text
    for phrase in BOILERPLATE:
        assert phrase.lower() not in cleaned.lower(), phrase


def test_repeated_headline_lines_are_dropped():
    cleaned = clean_news_text(ROTHERHAM.read_text(encoding="utf-8")).text
    assert "child sexual exploitation scandal" not in cleaned
    assert cleaned.count("Ofsted boss fears a repeat") == 1


def test_title_and_outlet():
    week = clean_news_text(WEEK.read_text(encoding="utf-8"))
    assert week.title == "Ofsted: council failings put children at risk of sex abuse"
    assert week.outlet == "The Week"
    assert clean_news_text(ROTHERHAM.read_text(encoding="utf-8")).title.startswith("Ofsted boss fears")


def test_glued_words_are_split_only_when_both_halves_are_words_of_the_document():
    text = "Abuse seen inRotherhamand more.\n\nRotherham and Oxford are towns like Oxford. YouTube and McDonald stay."
    cleaned = clean_news_text(text).text
    assert "in Rotherham and more" in cleaned
    assert "YouTube" in cleaned and "McDonald" in cleaned


def test_published_date_in_header_is_kept_as_metadata():
    text = "A headline here\n\nPublished 3 March 2016\n\nThe first sentence of the article is long enough to count as prose, clearly."
    cleaned = clean_news_text(text)
    assert cleaned.published == "2016-03-03"
    assert "Published" not in cleaned.text


def test_article_ending_with_short_lines_is_not_mistaken_for_a_story_list():
    text = (
        "Headline\n\nThe council said it had acted on every report it received, and that it would publish its findings.\n"
        "He declined to comment.\nShe left.\nThe end came quickly."
    )
    cleaned = clean_news_text(text).text
    for s in ("He declined to comment.", "She left.", "The end came quickly."):
        assert s in cleaned


def test_normalise_makes_one_kind_of_space():
    assert normalise("a\u00a0b\r\nc\t d  ") == "a b\nc d"
    # Every Unicode space is one space; zero-width ones vanish; lines keep their breaks.
    assert normalise("  a\u2007\u202f\u3000b\u200bc\ufeff\x0b d\r e \n\n") == "a bc d\ne\n\n"


@given(st.text(alphabet="ab \t\n\r\u00a0\u2007\u202f\u200b\ufeff\u3000\x0b\x0c\x1c\u2028", max_size=60))
def test_normalise_collapses_spaces_as_the_regex_did(text: str):
    """normalise works line by line (a 50 MB page made one re.sub keep a piece per space):
    the result is what the whole-text regexes gave."""
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = re.sub(r"[\u00a0\u2007\u202f\t]", " ", expected).replace("\u200b", "").replace("\ufeff", "")
    expected = "\n".join(line.strip() for line in re.sub(r"[^\S\n]+", " ", expected).split("\n"))
    assert normalise(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=400))
def test_cleaning_is_idempotent(raw):
    once = clean_news_text(raw)
    assert clean_news_text(once.text).text == once.text


_SENTENCES = st.lists(
    st.from_regex(r"[A-Z][a-z]{2,9}( [a-z]{2,9}){6,14}\.", fullmatch=True), min_size=1, max_size=8
)


@settings(max_examples=100, deadline=None)
@given(_SENTENCES)
def test_cleaning_never_drops_a_sentence_of_prose(sentences):
    raw = "A headline for the story\n\n" + "\n\n".join(sentences)
    cleaned = clean_news_text(raw).text
    for sentence in sentences:
        assert re.sub(r"\s+", " ", sentence) in cleaned


def test_ordinary_words_ending_in_a_function_word_stay_whole():
    text = "Headline\n\nWith the money gone, the council acted. Within a year it had changed. Can you see? Canon law applies."
    assert clean_news_text(text).text.endswith("Within a year it had changed. Can you see? Canon law applies.")


# --- issue 20, item 2: text a page shows as text is article text ---------------------------------------

BRIDGE_PAGE = (
    "<!doctype html><html><head><title>Harbourtown bridge reopens</title>"
    "<script>window.stolen = 'from-a-real-script';</script></head><body><article>"
    "<h1>Harbourtown bridge reopens</h1>"
    "<p>The Harbourtown bridge reopened on Friday after 18 months of repairs, the harbour authority said. "
    "&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    "<p>Engineer Sam Poe said the bridge would carry 30,000 vehicles a day.</p>"
    "<script>window.stolen = 'from-a-real-script';</script>"
    "<p>The authority said the repairs had been delayed by storms during the winter.</p>"
    "</article></body></html>"
)


def test_a_paragraph_holding_escaped_markup_is_kept_and_real_scripts_are_not(tmp_path):
    from rag.ingest.loading import RawDocument, read_document

    (tmp_path / "bridge.html").write_text(BRIDGE_PAGE, encoding="utf-8")
    raw = read_document(tmp_path / "bridge.html")
    assert isinstance(raw, RawDocument)
    cleaned = clean_news_text(raw.text, title_hint=raw.title).text
    assert ("The Harbourtown bridge reopened on Friday after 18 months of repairs, the harbour authority said."
            " <script>alert(1)</script>") in cleaned
    assert "30,000 vehicles" in cleaned and "delayed by storms" in cleaned
    assert "stolen" not in cleaned and "from-a-real-script" not in cleaned


def test_a_header_line_that_only_shares_the_headlines_words_is_not_a_headline_variant():
    raw = ("Bridge reopens on Friday\n\n"
           "The bridge reopened on Friday after repairs, officials said. <script>alert(1)</script>\n\n"
           "Bridge reopens on Friday | Harbour News\n\n"
           "Traffic resumed in the afternoon, the council said.")
    cleaned = clean_news_text(raw).text
    assert "The bridge reopened on Friday after repairs, officials said. <script>alert(1)</script>" in cleaned
    assert "Harbour News" not in cleaned  # a real variant of the headline still goes
    # A lead with no final full stop (BBC business/429) is prose too.
    lead = ("The US trade deficit widened by more than expected in October, hitting record levels after higher"
            " oil prices raised import costs, figures have shown")
    raw = f"US trade gap ballooned in October\n\n{lead}\n\nThe trade shortfall was $55.5bn, up 9% from September."
    assert lead in clean_news_text(raw).text
