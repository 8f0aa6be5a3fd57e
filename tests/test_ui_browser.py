"""The web UI in a real browser: Debian's Chromium driven by Playwright (sync API).

Skipped when /usr/bin/chromium is missing (`apt-get install chromium`). The browser talks
only to the app on 127.0.0.1; every other request is refused.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_ui import GRADIO_WARNINGS, ROTHERHAM, build_seed_index, running_app

pytestmark = [pytest.mark.browser, *GRADIO_WARNINGS]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 30_000
SCREENSHOT_COPY = Path("/tmp/ui-screenshot.png")

PAYLOADS = ('<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">',
            '<a href="javascript:window.__pwned=1">x</a>')
PAYLOAD_TXT = (
    "Northport opens new lighthouse museum\n\n"
    "The lighthouse museum in Northport opened on Saturday with 40 rooms. {img} Visitors queued for hours.\n\n"
    "The curator, Ann Kerr, said the museum cost 3 million pounds. {script} Entry is free for children.\n\n"
    "Tickets can be bought at the harbour office. {link} The museum is closed on Mondays.\n"
).format(img=PAYLOADS[1], script=PAYLOADS[0], link=PAYLOADS[2])
# Real tags (which the HTML reader drops) and the same payloads as escaped text (which it keeps as text).
PAYLOAD_HTML = (
    "<!doctype html><html><head><title>Harbourtown bridge reopens</title>{script}</head><body><article>"
    "<h1>Harbourtown bridge reopens</h1>"
    "<p>The Harbourtown bridge reopened on Friday after 18 months of repairs, the harbour authority said. "
    "&lt;script&gt;window.__pwned=1&lt;/script&gt;</p>"
    "<p>Engineer Sam Poe said the bridge would carry 30,000 vehicles a day. {img} "
    "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;</p>"
    "<p>Local shops welcomed the reopening. {link} &lt;a href=&quot;javascript:window.__pwned=1&quot;&gt;x&lt;/a&gt;</p>"
    "<p>The authority said the repairs had been delayed by storms during the winter.</p>"
    "</article></body></html>"
).format(script=PAYLOADS[0], img=PAYLOADS[1], link=PAYLOADS[2])

#: What must never appear inside the parts of the page that show documents and questions.
INJECTED = """() => {
  const areas = ['#rag-chat', '#rag-sources', '#rag-index', '#rag-upload-status', '#rag-examples'];
  const count = sel => areas.map(a => document.querySelectorAll(a + ' ' + sel).length).reduce((x, y) => x + y, 0);
  let handlers = 0;
  for (const el of document.querySelectorAll(areas.join(','))) {
    for (const node of [el, ...el.querySelectorAll('*')]) {
      for (const attr of node.attributes) { if (attr.name.toLowerCase().startsWith('on')) handlers++; }
    }
  }
  return {img: count('img'), script: count('script'), iframe: count('iframe'),
          jsLinks: document.querySelectorAll('a[href^="javascript" i]').length, handlers,
          pwned: typeof window.__pwned};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    playwright_api.expect.set_options(timeout=TIMEOUT_MS)  # a loaded machine: waits for conditions, never sleeps
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def loopback_only(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", loopback_only)
    page.dialogs = dialogs  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        context.close()


def ask(page: Any, question: str, answers_before: int) -> Any:
    """Type a question, send it, and wait for its final answer bubble; returns that bubble."""
    from playwright.sync_api import expect

    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    finals = page.locator("#rag-chat .rag-answered, #rag-chat .rag-abstained")
    expect(finals).to_have_count(answers_before + 1)
    return finals.nth(answers_before)


def test_ask_a_seed_question_and_open_its_source(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    index = build_seed_index(tmp_path / "index")
    with running_app(index) as url:
        page.goto(url)
        expect(page.locator("#rag-question textarea")).to_be_visible()
        answer = ask(page, ROTHERHAM, 0)
        expect(answer).to_contain_text("1,400")
        expect(answer.locator(".rag-ref")).to_contain_text(["[1]"])

        sources = page.locator("#rag-sources")
        expect(sources.locator(".rag-banner.answered")).to_be_visible()
        card = sources.locator(".rag-cited").first
        expect(card.locator(".rag-n")).to_have_text("[1]")
        expect(card.locator(".rag-title")).to_contain_text("Rotherham")
        expect(card.locator(".rag-file")).to_contain_text("ofsted-boss-fears-repeat-of-rotherham.txt")
        mark = card.locator("details.rag-passage mark")
        expect(mark).to_be_hidden()
        card.locator("details.rag-passage > summary").click()  # open the source
        expect(mark).to_be_visible()
        expect(mark).to_contain_text("1,400 children")

        # A follow-up keeps the conversation's context.
        follow_up = ask(page, "And in Oxford?", 1)
        expect(follow_up).to_contain_text("Oxford")
        expect(follow_up.locator("xpath=..")).to_contain_text(re.compile(r"Understood as: How many children .*Oxford"))

        # A question the articles cannot answer is shown as an abstention, with the closest passages.
        abstention = ask(page, "What is the boiling point of mercury on Mars?", 2)
        expect(abstention).to_have_class("rag-abstained")
        expect(abstention).to_contain_text("No supported answer")
        expect(sources.locator(".rag-banner.abstained")).to_be_visible()
        expect(sources.locator(".rag-retrieved").first).to_be_visible()

        ask(page, ROTHERHAM, 3)
        page.locator("#rag-sources .rag-cited details.rag-passage > summary").first.click()
        expect(page.locator("#rag-sources .rag-cited mark").first).to_be_visible()
        shot = tmp_path / "ui.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        shutil.copyfile(shot, SCREENSHOT_COPY)
        assert page.dialogs == []  # type: ignore[attr-defined]


def test_payloads_in_documents_and_questions_stay_text(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    index = build_seed_index(tmp_path / "index")
    files = tmp_path / "files"
    files.mkdir()
    (files / "museum.txt").write_text(PAYLOAD_TXT, encoding="utf-8")
    (files / "bridge.html").write_text(PAYLOAD_HTML, encoding="utf-8")
    (files / "junk.txt").write_bytes(b"\x00\x01\x02\x03 binary")

    with running_app(index) as url:
        page.goto(url)
        page.locator("#rag-index-accordion").get_by_text("Index").first.click()
        expect(page.locator("#rag-index")).to_contain_text("Documents")
        page.locator("#rag-upload input[type=file]").set_input_files(
            [str(files / "museum.txt"), str(files / "bridge.html"), str(files / "junk.txt")])
        expect(page.locator("#rag-upload tbody tr")).to_have_count(3)
        page.locator("#rag-add").click()
        status = page.locator("#rag-upload-status")
        expect(status).to_contain_text("now holds 4 document(s)", timeout=90_000)
        expect(status).to_contain_text("Added museum.txt")
        expect(status).to_contain_text("Added bridge.html")
        expect(status).to_contain_text("Rejected junk.txt")
        expect(page.locator("#rag-index")).to_contain_text("4")

        questions = [
            "How many vehicles will the Harbourtown bridge carry?",
            "How many rooms does the Northport lighthouse museum have?",
            f"{PAYLOADS[1]} {PAYLOADS[0]} {PAYLOADS[2]} museum Monday",
        ]
        texts = []
        for i, question in enumerate(questions):
            ask(page, question, i)
            for summary in page.locator("#rag-sources details > summary").all():  # open every passage
                summary.click()
            texts.append(page.locator("#rag-sources").inner_text())
            state = page.evaluate(INJECTED)
            assert state == {"img": 0, "script": 0, "iframe": 0, "jsLinks": 0, "handlers": 0,
                             "pwned": "undefined"}, (question, state)

        # The payloads are shown, as text: in the question bubble and in the passages.
        chat = page.locator("#rag-chat").inner_text()
        for payload in PAYLOADS:
            assert payload in chat
        shown = "\n".join(texts)
        assert "30,000 vehicles" in shown and "40 rooms" in shown
        assert PAYLOADS[1] in shown  # from the .txt, inside a highlighted or retrieved passage
        assert "<script>window.__pwned=1</script>" in shown  # from the .html's escaped text
        page.screenshot(path=str(tmp_path / "payloads.png"), full_page=True)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.dialogs == []  # type: ignore[attr-defined]


def test_example_questions_follow_an_upload_and_fill_the_question_box(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    index = build_seed_index(tmp_path / "index")
    article = tmp_path / "northport.txt"
    article.write_text("Lighthouse keepers return to Northport\n\nNorthport harbour said on Tuesday that it had"
                       " hired 12 lighthouse keepers, the first since 1985.\n", encoding="utf-8")
    with running_app(index) as url:
        page.goto(url)
        examples = page.locator("#rag-examples")
        expect(examples).to_be_visible()
        expect(examples).not_to_contain_text("Lighthouse")
        page.locator("#rag-index-accordion").get_by_text("Index").first.click()
        page.locator("#rag-upload input[type=file]").set_input_files([str(article)])
        page.locator("#rag-add").click()
        expect(page.locator("#rag-upload-status")).to_contain_text("Added northport.txt", timeout=90_000)
        expect(examples).to_contain_text("Lighthouse keepers return to Northport")
        examples.get_by_text("Lighthouse keepers").first.click()
        expect(page.locator("#rag-question textarea")).to_have_value(re.compile("Northport"))
        page.locator("#rag-question textarea").press("Enter")
        expect(page.locator("#rag-chat .rag-answered")).to_contain_text("12 lighthouse keepers")
        page.reload()  # a page opened after the upload shows the new examples too
        expect(page.locator("#rag-examples")).to_contain_text("Lighthouse keepers")
        assert page.dialogs == []  # type: ignore[attr-defined]


#: Words of the index panel's facts that a line break cuts in two (the panel at 420 px).
BROKEN_WORDS = """() => {
  const broken = [];
  const facts = document.querySelector('#rag-index .rag-panel');
  const walker = document.createTreeWalker(facts, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('details')) continue;  // the document list: file names may wrap
    for (const m of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""

#: What lies over the top edge of the chat's visible messages: anything not a message there.
OVER_THE_CHAT = """() => {
  const log = document.querySelector('#rag-chat [role=log]');
  const box = log.getBoundingClientRect();
  const covering = [];
  for (let x = box.left + 4; x < box.right - 4; x += 8) {
    const el = document.elementFromPoint(x, box.top + 6);
    if (!el || log.contains(el)) continue;
    const named = el.closest('button, label, [aria-label]') || el;
    covering.push((named.getAttribute('aria-label') || named.innerText || named.tagName).trim());
  }
  return [...new Set(covering)];
}"""


def test_a_narrow_page_reads_cleanly(browser: Any, tmp_path: Path) -> None:
    """At 420 px: topics shown whole, a scrolled chat with nothing over it, an abstention with its
    passages folded and no raw scores, filters that look empty when they are, an index panel
    that breaks no word. Every problem is collected, then reported together."""
    from playwright.sync_api import expect

    from rag.ui.app import topic_question

    index = build_seed_index(tmp_path / "index")
    context = browser.new_context(viewport={"width": 420, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    problems: list[str] = []
    with running_app(index) as url:
        page.goto(url)
        expect(page.locator("#rag-question textarea")).to_be_visible()
        topics = page.locator("#rag-examples .rag-topic")
        expect(topics.first).to_be_visible()
        headlines = topics.all_inner_texts()
        if not all(h.strip() and not h.endswith("...") for h in headlines):
            problems.append(f"topics cut short: {headlines}")
        topics.first.click()
        expect(page.locator("#rag-question textarea")).to_have_value(topic_question(headlines[0].strip()))

        for n, question in enumerate([ROTHERHAM, "Who is the chief inspector of schools?", "What did the LGA say?"]):
            ask(page, question, n)
        page.locator("#rag-chat [role=log]").evaluate("log => log.scrollTo(0, log.scrollHeight / 3)")
        if covering := page.evaluate(OVER_THE_CHAT):
            problems.append(f"over the chat's top message: {covering}")

        ask(page, "What is the boiling point of mercury on Mars?", 3)
        sources = page.locator("#rag-sources")
        expect(sources.locator(".rag-banner.abstained")).to_be_visible()
        if sources.locator(".rag-retrieved .rag-text:visible").count():
            problems.append("an abstention shows its passages unfolded")
        if re.search(r"rank \d+ · score", sources.inner_text()):
            problems.append("raw rank and score shown")

        page.locator("#rag-settings").get_by_text("Settings").first.click()
        for box in ("#rag-since", "#rag-until", "#rag-source"):
            field = page.locator(f"{box} input, {box} textarea").first
            expect(field).to_be_visible()
            if field.get_attribute("placeholder"):
                problems.append(f"{box} shows {field.get_attribute('placeholder')!r} as if it were set")

        page.locator("#rag-index-accordion").get_by_text("Index").first.click()
        expect(page.locator("#rag-index")).to_contain_text("Documents")
        if broken := page.evaluate(BROKEN_WORDS):
            problems.append(f"index panel breaks words: {broken}")
        page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    context.close()
    assert problems == []


def test_uploads_show_no_server_paths_and_a_refused_file_leaves_the_box_usable(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    index = build_seed_index(tmp_path / "index")
    files = tmp_path / "files"
    files.mkdir()
    article = files / "northport.txt"
    article.write_text("Lighthouse keepers return to Northport\n\nNorthport harbour said on Tuesday that it had"
                       " hired 12 lighthouse keepers, the first since 1985.\n", encoding="utf-8")
    (files / "tool.exe").write_bytes(b"MZ" + bytes(200))
    with running_app(index) as url:
        page.goto(url)
        page.locator("#rag-index-accordion").get_by_text("Index").first.click()
        upload = page.locator("#rag-upload")
        upload.locator("input[type=file]").set_input_files([str(files / "tool.exe")])  # refused by the page
        expect(page.locator(".toast-body")).to_contain_text("Invalid file type")
        expect(upload.locator("[data-testid=status-tracker] .error")).to_have_count(0, timeout=5_000)
        upload.locator("input[type=file]").set_input_files([str(article)])  # the box takes files again
        expect(upload.locator("tbody tr")).to_have_count(1)
        page.locator("#rag-add").click()
        expect(page.locator("#rag-upload-status")).to_contain_text("Added northport.txt", timeout=90_000)

        ask(page, "How many lighthouse keepers did Northport hire?", 0)
        expect(page.locator("#rag-sources .rag-file").first).to_contain_text("uploads/northport.txt")
        page.locator("#rag-index details.rag-doclist > summary").click()
        expect(page.locator("#rag-index")).to_contain_text("uploads/northport.txt")
        shown = page.locator("#rag-sources").inner_text() + page.locator("#rag-index").inner_text()
        assert str(tmp_path) not in shown and str(Path.cwd()) not in shown
        assert page.dialogs == []  # type: ignore[attr-defined]
