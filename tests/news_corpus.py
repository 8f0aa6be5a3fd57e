"""A small fictional news corpus with known metadata, for tests, benches and eval/news_questions.jsonl.

The story (invented: the town, the river, the people and the outlets do not exist): the River
Alder floods Kelmsford. One wire story by the Northern Press Association is published by three
outlets, each with its own page furniture and its own kind of metadata and small wording edits;
two dated follow-ups change the evacuation figure (1,400 homes, then 2,100, then 2,350); an
undated explainer; a page whose meta date and shown date disagree; a page with no metadata.

`write_news_corpus(dir)` writes the files and returns, per file name, what a reader should
extract: {"expected": {headline, outlet, authors, published, url, dates_disagree}, "kind",
"story", "group"} (`group` names the set of syndicated copies a file belongs to, or None).
"""

from __future__ import annotations

import json
from pathlib import Path

WIRE_PARAGRAPHS = [
    "About 1,400 homes in Kelmsford were evacuated overnight after the River Alder burst its banks, "
    "the Environment Agency said on Monday.",
    "Water rose more than two metres above its normal level at Fenwick Bridge in the early hours, "
    "flooding streets on both sides of the river and closing the A614 in both directions.",
    "Kelmsford District Council opened emergency rest centres at the Corn Exchange and at St Aidan's "
    "School, where about 300 people spent the night on camp beds.",
    "Council leader Margaret Osei said: \"Our priority is to get people safe and warm. Crews have been "
    "out all night knocking on doors in the lowest-lying streets.\"",
    "The Environment Agency issued six severe flood warnings, meaning a danger to life, for the Alder "
    "between Kelmsford and the village of Upper Brenning.",
    "Forecasters said a further 40mm of rain could fall on already saturated ground before Wednesday, "
    "and that river levels were not expected to peak until Tuesday evening.",
    "Residents of Mill Lane said the water had reached their doors within an hour. Retired teacher "
    "Alan Whitcombe, 71, said he had lived on the street for forty years and had never seen the river so high.",
    "The flood defences completed at Fenwick Bridge in 2019 held, the agency said, but water flowed "
    "around the end of the new wall where the old embankment is lower.",
]

HEADLINE = "Kelmsford floods: 1,400 homes evacuated as River Alder bursts its banks"
AUTHORS = ["Priya Raman", "Tomasz Wolski"]


def _courier_paragraphs() -> list[str]:
    return list(WIRE_PARAGRAPHS)


def _post_paragraphs() -> list[str]:
    p = list(WIRE_PARAGRAPHS)
    p[0] = ("About 1,400 homes in Kelmsford were evacuated overnight after the River Alder burst its banks, "
            "the Environment Agency confirmed on Monday.")
    p[3] = ("Council leader Margaret Osei told reporters: \"Our priority is to get people safe and warm. Crews have "
            "been out all night knocking on doors in the lowest-lying streets.\"")
    p.insert(5, "In Alder Valley, the B1190 at Marsh End was also closed because of standing water.")
    return p


def _gazette_paragraphs() -> list[str]:
    p = list(WIRE_PARAGRAPHS[:-1])
    p[1] = ("Water rose more than two metres above its usual level at Fenwick Bridge in the early hours, "
            "flooding streets on both sides of the river and closing the A614 in both directions.")
    p[6] = ("Residents of Mill Lane said the water reached their doors within an hour. Retired teacher "
            "Alan Whitcombe, 71, said he had lived on the street for forty years and had never seen the river so high.")
    return p


def _ps(paragraphs: list[str]) -> str:
    return "\n".join(f"      <p>{p}</p>" for p in paragraphs)


COURIER_HTML = """<!DOCTYPE html>
<html lang="en-GB">
<head>
  <meta charset="utf-8">
  <title>Kelmsford floods: 1,400 homes evacuated as River Alder bursts its banks | The Kelmsford Courier</title>
  <link rel="canonical" href="https://www.kelmsfordcourier.example/news/2024/02/12/kelmsford-floods-homes-evacuated">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <script type="application/ld+json">
  {"@context": "https://schema.org", "@graph": [
    {"@type": "WebSite", "name": "The Kelmsford Courier", "url": "https://www.kelmsfordcourier.example/"},
    {"@type": "NewsArticle",
     "headline": "Kelmsford floods: 1,400 homes evacuated as River Alder bursts its banks",
     "datePublished": "2024-02-12T07:40:00+00:00",
     "dateModified": "2024-02-12T11:02:00+00:00",
     "author": [{"@type": "Person", "name": "Priya Raman"}, {"@type": "Person", "name": "Tomasz Wolski"}],
     "publisher": {"@type": "NewsMediaOrganization", "name": "The Kelmsford Courier"},
     "mainEntityOfPage": "https://www.kelmsfordcourier.example/news/2024/02/12/kelmsford-floods-homes-evacuated"}
  ]}
  </script>
  <script>window.dataLayer = window.dataLayer || []; document.write("TRACKING-SCRIPT-TEXT");</script>
</head>
<body>
  <div class="cookie-banner">We use cookies to improve your experience. Accept all cookies</div>
  <nav class="site-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
    <li><a href="/sport">Sport</a></li><li><a href="/whats-on">What's On</a></li></ul></nav>
  <main>
    <article>
      <h1>Kelmsford floods: 1,400 homes evacuated as River Alder bursts its banks</h1>
      <div class="byline">By Priya Raman and Tomasz Wolski, Northern Press Association</div>
      <time datetime="2024-02-12T07:40:00+00:00">Monday 12 February 2024 07:40 GMT</time>
{body}
      <div class="newsletter-promo"><p>Sign up to the Courier Daily newsletter for the top stories in your inbox every morning.</p></div>
    </article>
  </main>
  <aside class="related-stories"><h2>Related stories</h2><ul>
    <li><a href="/news/2024/01/30/bypass">Kelmsford bypass plans go on display</a> <time datetime="2024-01-30">30 January 2024</time></li>
    <li><a href="/news/2024/02/02/market">Market traders fear rent rise</a> <time datetime="2024-02-02">2 February 2024</time></li>
  </ul></aside>
  <footer><p>© 2024 The Kelmsford Courier. All rights reserved.</p></footer>
</body>
</html>
"""

POST_HTML = """<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>Homes evacuated as River Alder floods Kelmsford - Alder Valley Post</title>
  <meta property="og:type" content="article">
  <meta property="og:title" content="Homes evacuated as River Alder floods Kelmsford">
  <meta property="og:site_name" content="Alder Valley Post">
  <meta property="og:url" content="https://aldervalleypost.example/local/homes-evacuated-river-alder-floods-kelmsford-8841">
  <meta property="article:published_time" content="2024-02-12T09:15:00Z">
  <meta name="author" content="Priya Raman">
  <script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", "headline": "broken, </script>
</head>
<body>
  <header class="masthead"><a href="/">Alder Valley Post</a>
    <ul class="menu"><li>Local</li><li>Business</li><li>Weather</li><li>Subscribe</li></ul></header>
  <div class="content">
    <h1>Homes evacuated as River Alder floods Kelmsford</h1>
    <p class="standfirst">Severe flood warnings in force along the Alder valley</p>
{body}
    <div class="promo"><p>Subscribe to Alder Valley Post for unlimited local news. Already a subscriber? Log in</p></div>
  </div>
  <section class="more-stories"><h3>Most read</h3><ol>
    <li>Marsh End pub reopens after refit</li><li>Upper Brenning fete cancelled</li></ol></section>
</body>
</html>
"""

GAZETTE_HTML = """<html>
<head>
<title>River Alder bursts banks in Kelmsford | The Westmoor Gazette</title>
</head>
<body>
<div id="top-nav"><a href="/">Westmoor Gazette</a> | <a href="/news">News</a> | <a href="/jobs">Jobs</a></div>
<aside class="related"><h4>Earlier</h4><p><time datetime="2024-02-05">5 February 2024</time> Westmoor ring road works delayed</p></aside>
<div class="story">
  <h1>River Alder bursts banks in Kelmsford</h1>
  <p class="byline">By Priya Raman, Environment Correspondent</p>
  <p class="dateline"><time datetime="2024-02-12T10:30">12 February 2024, 10:30</time></p>
{body}
</div>
<div class="share">Share this article: Facebook | X | Email</div>
<div class="footer">Westmoor Gazette, 14 Market Row, Westmoor</div>
</body>
</html>
"""

FOLLOWUP_1_TXT = """Kelmsford floods: evacuation widened to 2,100 homes as river peaks

By Tomasz Wolski
Published 13 February 2024

The number of homes evacuated in Kelmsford rose to 2,100 on Tuesday as the River Alder peaked higher than forecast, the council said.

Kelmsford District Council said a further 700 homes on the east bank, around Tanners Row and Quay Street, had been cleared overnight after water overtopped sandbags near the gasworks.

The rest centre at St Aidan's School reached capacity and a third centre opened at Kelmsford Leisure Centre, where about 450 people were staying.

Council leader Margaret Osei said the council would review why the warning for the east bank had come so late.

The Environment Agency said the river had peaked at 3.1 metres above its normal level at Fenwick Bridge at about 6pm on Tuesday.

Subscribe to The Kelmsford Courier
Get the stories that matter in Kelmsford delivered to your inbox.
"""

FOLLOWUP_2_HTML = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Kelmsford flood: residents begin returning home - The Kelmsford Courier</title>
<link rel="canonical" href="https://www.kelmsfordcourier.example/news/2024/02/15/kelmsford-flood-residents-return">
<script type="application/ld+json">
[{"@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": []},
 {"@context": "https://schema.org", "@type": "ReportageNewsArticle",
  "headline": "Kelmsford flood: residents begin returning home",
  "datePublished": "2024-02-15",
  "author": {"@type": "Person", "name": "Priya Raman"},
  "publisher": {"@type": "Organization", "name": "The Kelmsford Courier"}}]
</script>
</head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Kelmsford flood: residents begin returning home</h1>
<p>Residents of Kelmsford began returning to their homes on Thursday as the River Alder fell back below its banks.</p>
<p>The council said the final count of homes evacuated during the flood was 2,350, higher than the 2,100 it gave on Tuesday, after homes in Upper Brenning were added to the total.</p>
<p>About 180 people were still staying at the Corn Exchange rest centre, which will stay open until Sunday.</p>
<p>The Environment Agency said it would survey the gap at the end of the Fenwick Bridge wall, where water flowed around the new defences, before the end of March.</p>
<p>Insurers said claims could take several weeks to assess and urged residents to photograph damage before clearing their homes.</p>
</article>
<aside class="related"><ul><li><a href="/news/2024/02/12/kelmsford-floods-homes-evacuated">Kelmsford floods: 1,400 homes evacuated</a></li></ul></aside>
</body>
</html>
"""

UNDATED_TXT = """How the Fenwick Bridge flood wall works, and why water got round it

Monday 12 February

The flood wall at Fenwick Bridge in Kelmsford is a 600-metre concrete barrier with steel gates that are closed when the River Alder rises.

It was built to hold back a flood of the size expected once in a hundred years, and engineers say the wall itself did its job this week.

The weak point is at its northern end, where the new wall meets an older earth embankment that is about half a metre lower.

When the river rose on the night of the flood, water flowed across the top of the old embankment and into the streets behind the wall.

Extending the wall along the embankment was part of the original plan, but it was left out to save money, according to council papers.
"""

DISAGREE_HTML = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Kelmsford flood victims promised council tax relief | Alder Valley Post</title>
<meta property="og:site_name" content="Alder Valley Post">
<meta property="og:title" content="Kelmsford flood victims promised council tax relief">
<meta property="article:published_time" content="2024-02-14T16:20:00Z">
<meta name="author" content="Hannah Birch">
<link rel="canonical" href="https://aldervalleypost.example/local/council-tax-relief-flood-victims-8870">
</head>
<body>
<div class="content">
<h1>Kelmsford flood victims promised council tax relief</h1>
<p class="byline">By Hannah Birch</p>
<p class="meta"><time datetime="2024-02-16">16 February 2024</time></p>
<p>Households forced out of their homes by the Kelmsford flood will not pay council tax for three months, the district council has announced.</p>
<p>The council said the relief would apply to every home that was evacuated, and would cost about £1.2m.</p>
<p>Council leader Margaret Osei said the relief was the least the council could do for families who had lost so much.</p>
<p>The council also said it would set up a hardship fund of £250,000 for people without home insurance.</p>
</div>
</body>
</html>
"""

NO_META_HTML = """<html><body>
<div>
<p>Volunteers from the Kelmsford rowing club spent the weekend ferrying supplies to homes cut off by the flood, using the club's two safety launches.</p>
<p>The club said its members had made more than sixty trips along Mill Lane and Quay Street, carrying food, medicines and pet food to residents who had chosen to stay upstairs.</p>
<p>One volunteer said the water in the lowest part of Mill Lane was still more than a metre deep on Saturday morning.</p>
</div>
</body></html>
"""

FILES: dict[str, dict] = {
    "courier-floods.html": {
        "kind": "html: JSON-LD NewsArticle in @graph, author list, canonical link",
        "group": "alder-wire",
        "expected": {
            "headline": HEADLINE,
            "outlet": "The Kelmsford Courier",
            "authors": AUTHORS,
            "published": "2024-02-12T07:40:00+00:00",
            "url": "https://www.kelmsfordcourier.example/news/2024/02/12/kelmsford-floods-homes-evacuated",
            "dates_disagree": False,
        },
    },
    "alder-valley-post-floods.html": {
        "kind": "html: OpenGraph + article:published_time + meta author; a broken JSON-LD block",
        "group": "alder-wire",
        "expected": {
            "headline": "Homes evacuated as River Alder floods Kelmsford",
            "outlet": "Alder Valley Post",
            "authors": ["Priya Raman"],
            "published": "2024-02-12T09:15:00+00:00",
            "url": "https://aldervalleypost.example/local/homes-evacuated-river-alder-floods-kelmsford-8841",
            "dates_disagree": False,
        },
    },
    "westmoor-gazette-floods.html": {
        "kind": "html: no meta at all; a visible <time> and byline; a related-story <time> before the article",
        "group": "alder-wire",
        "expected": {
            "headline": "River Alder bursts banks in Kelmsford",
            "outlet": "The Westmoor Gazette",
            "authors": ["Priya Raman"],
            "published": "2024-02-12T10:30",
            "url": None,
            "dates_disagree": False,
        },
    },
    "courier-followup-2024-02-13.txt": {
        "kind": "text: headline, byline, 'Published' dateline, outlet promo; figure changed to 2,100",
        "group": None,
        "expected": {
            "headline": "Kelmsford floods: evacuation widened to 2,100 homes as river peaks",
            "outlet": "The Kelmsford Courier",
            "authors": ["Tomasz Wolski"],
            "published": "2024-02-13",
            "url": None,
            "dates_disagree": False,
        },
    },
    "courier-followup-2024-02-15.html": {
        "kind": "html: JSON-LD list with ReportageNewsArticle, date-only datePublished; figure changed to 2,350",
        "group": None,
        "expected": {
            "headline": "Kelmsford flood: residents begin returning home",
            "outlet": "The Kelmsford Courier",
            "authors": ["Priya Raman"],
            "published": "2024-02-15",
            "url": "https://www.kelmsfordcourier.example/news/2024/02/15/kelmsford-flood-residents-return",
            "dates_disagree": False,
        },
    },
    "flood-wall-explainer.txt": {
        "kind": "text: undated; a year-less 'Monday 12 February' header line must stay unknown",
        "group": None,
        "expected": {
            "headline": "How the Fenwick Bridge flood wall works, and why water got round it",
            "outlet": None,
            "authors": [],
            "published": None,
            "url": None,
            "dates_disagree": False,
        },
    },
    "council-tax-relief.html": {
        "kind": "html: meta article:published_time 14 Feb, visible <time> 16 Feb (disagree; meta wins)",
        "group": None,
        "expected": {
            "headline": "Kelmsford flood victims promised council tax relief",
            "outlet": "Alder Valley Post",
            "authors": ["Hannah Birch"],
            "published": "2024-02-14T16:20:00+00:00",
            "url": "https://aldervalleypost.example/local/council-tax-relief-flood-victims-8870",
            "dates_disagree": True,
            "visible_published": "2024-02-16",
        },
    },
    "rowing-club-volunteers.html": {
        "kind": "html: no metadata at all (no title, no heading, no byline, no date)",
        "group": None,
        "expected": {
            "headline": None,
            "outlet": None,
            "authors": [],
            "published": None,
            "url": None,
            "dates_disagree": False,
        },
    },
}

_CONTENT = {
    "courier-floods.html": lambda: COURIER_HTML.replace("{body}", _ps(_courier_paragraphs())),
    "alder-valley-post-floods.html": lambda: POST_HTML.replace("{body}", _ps(_post_paragraphs())),
    "westmoor-gazette-floods.html": lambda: GAZETTE_HTML.replace("{body}", _ps(_gazette_paragraphs())),
    "courier-followup-2024-02-13.txt": lambda: FOLLOWUP_1_TXT,
    "courier-followup-2024-02-15.html": lambda: FOLLOWUP_2_HTML,
    "flood-wall-explainer.txt": lambda: UNDATED_TXT,
    "council-tax-relief.html": lambda: DISAGREE_HTML,
    "rowing-club-volunteers.html": lambda: NO_META_HTML,
}


def write_news_corpus(directory: Path) -> dict[str, dict]:
    """Write the corpus into `directory` (created if needed); return the expectations per file name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, make in _CONTENT.items():
        (directory / name).write_text(make(), encoding="utf-8")
    return json.loads(json.dumps(FILES))  # a deep copy the caller may change


if __name__ == "__main__":  # python -m tests.news_corpus DIR
    import sys

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "news-corpus")
    print(json.dumps(write_news_corpus(out), indent=2))
