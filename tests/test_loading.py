"""Files of every supported kind load; bad ones are skipped with a reason, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

from rag.ingest.loading import RawDocument, Skipped, decode_text, discover, read_document


def _pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF with `text`, written by hand so the test needs no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_utf8_latin1_and_bom_decode():
    assert decode_text("café – ok".encode("utf-8")) == "café – ok"
    assert decode_text("\ufeffhello".encode("utf-8")) == "hello"
    latin = "Le conseil a déclaré que les enfants étaient en sécurité à l'école.".encode("latin-1")
    assert "déclaré" in (decode_text(latin) or "")


def test_english_with_one_pound_sign_in_a_western_code_page_keeps_the_sign():
    """A BBC archive file: ASCII but for one 0xA3; the detector alone read it as Central
    European ("Ł15.8m") or Shift-JIS. Text mostly in another script still goes to the detector."""
    text = ("Chelsea sack Mutu\n\nChelsea have sacked Adrian Mutu after he failed a drugs test. The club said it would"
            " seek to recover part of the transfer fee for Mutu, a \xa315.8m signing from Parma in August 2003. "
            "Mutu was banned for seven months by the Football Association last month.\n") * 2
    assert "a £15.8m signing" in (decode_text(text.encode("latin-1")) or "")
    assert decode_text("Привет, мир. Это тест кодировки.".encode("cp1251") * 5) == "Привет, мир. Это тест кодировки." * 5
    japanese = "日本語のテキストです。東京は晴れ。明日は雨が降るでしょう。" * 5
    assert decode_text(japanese.encode("shift_jis")) == japanese


def test_binary_is_refused():
    assert decode_text(b"\x00\x01\x02\x03" * 100) is None
    assert decode_text(os.urandom(4096)) is None


def test_read_kinds(tmp_path: Path):
    (tmp_path / "a.txt").write_text("Title\n\nSome article text here.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# A markdown title\n\nBody text of the note.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><title>Page title</title></head><body><nav>Home | News</nav>"
        "<article><h1>Council report</h1><p>The council published a long report on Tuesday about how "
        "children were protected, and it found serious weaknesses in several areas of its work.</p>"
        "<p>Officials said they would respond within a month to every recommendation in it.</p></article>"
        "<script>alert(1)</script></body></html>",
        encoding="utf-8",
    )
    (tmp_path / "d.pdf").write_bytes(_pdf_bytes("Hello from a PDF article"))
    txt = read_document(tmp_path / "a.txt")
    md = read_document(tmp_path / "b.md")
    html = read_document(tmp_path / "c.html")
    pdf = read_document(tmp_path / "d.pdf")
    assert isinstance(txt, RawDocument) and "Some article text" in txt.text
    assert isinstance(md, RawDocument) and md.title == "A markdown title" and "# " not in md.text
    assert isinstance(html, RawDocument) and "serious weaknesses" in html.text
    assert "alert(1)" not in html.text and "Home | News" not in html.text
    assert isinstance(pdf, RawDocument) and "Hello from a PDF article" in pdf.text


def test_bad_files_are_skipped_with_reasons(tmp_path: Path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(2000))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    reasons = {p: read_document(tmp_path / p) for p in ("empty.txt", "binary.txt", "broken.pdf")}
    assert all(isinstance(r, Skipped) for r in reasons.values())
    assert "empty" in reasons["empty.txt"].reason  # type: ignore[union-attr]
    assert "binary" in reasons["binary.txt"].reason  # type: ignore[union-attr]


def test_discover_walks_folders_once_per_real_file_and_survives_loops(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.html").write_text("x", encoding="utf-8")
    (tmp_path / "notes.docx").write_bytes(b"x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "sub" / "a.txt")
    (tmp_path / "sub" / "loop").symlink_to(tmp_path)  # a directory loop
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")  # a file symlink loop
    found = list(discover([tmp_path, tmp_path / "sub" / "a.txt"]))
    files = [f for f in found if isinstance(f, Path)]
    assert sorted(f.name for f in files) == ["a.txt", "b.html"]
    skipped = [f for f in found if isinstance(f, Skipped)]
    assert any("loop" in s.reason for s in skipped)


def test_missing_path_is_reported(tmp_path: Path):
    (item,) = list(discover([tmp_path / "nope"]))
    assert isinstance(item, Skipped) and "no such file" in item.reason


def test_pdf_library_chatter_becomes_notes_not_stderr_lines(tmp_path: Path, capfd):
    good = _pdf_bytes("Wakefield council said the report on children was published on Tuesday")
    (tmp_path / "noeof.pdf").write_bytes(good[: good.rindex(b"%%EOF")][: len(good) // 2])
    (tmp_path / "badxref.pdf").write_bytes(good.replace(b"startxref\n", b"startxref\n9"))
    skipped = read_document(tmp_path / "noeof.pdf")
    repaired = read_document(tmp_path / "badxref.pdf")
    assert capfd.readouterr().err == ""  # pypdf printed nothing itself
    assert isinstance(skipped, Skipped) and "pypdf: EOF marker not found" in skipped.reason
    assert "\n" not in skipped.reason
    assert isinstance(repaired, RawDocument) and "Wakefield" in repaired.text
    assert repaired.notes and all(note.startswith("pypdf: ") for note in repaired.notes)


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_reason(tmp_path: Path):
    name = os.fsdecode(b"caf\xe9.txt")  # undecodable byte, kept as a lone surrogate
    try:
        (tmp_path / name).write_text("Some article text.", encoding="utf-8")
    except (UnicodeEncodeError, OSError):
        import pytest

        pytest.skip("this file system refuses non-UTF-8 names")
    (tmp_path / "fine.txt").write_text("Some article text.", encoding="utf-8")
    found = list(discover([tmp_path]))
    assert [f.name for f in found if isinstance(f, Path)] == ["fine.txt"]
    (bad,) = [f for f in found if isinstance(f, Skipped)]
    assert "not valid UTF-8" in bad.reason


def test_ingest_prints_pypdf_notes_as_one_warning_line_per_file(tmp_path: Path, capsys):
    from rag.cli import main

    good = _pdf_bytes("Wakefield council said the report on children was published on Tuesday")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "badxref.pdf").write_bytes(good.replace(b"startxref\n", b"startxref\n9"))
    (docs / "noeof.pdf").write_bytes(good[: good.rindex(b"%%EOF")][: len(good) // 2])
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(docs)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert all(line.startswith(("Warning: ", "Notice: ")) for line in err), err
    warnings = [line for line in err if line.startswith("Warning: ")]
    assert len(warnings) == 2
    assert any("badxref.pdf: pypdf: " in line for line in warnings)
    assert any("noeof.pdf" in line and "pypdf: EOF marker not found" in line for line in warnings)


# --- issue 20, item 3: nearly-UTF-8 files, stray NULs, UTF-16 without a BOM ------------------------

ACCENTED = ("Mayor Élodie Müller opened the new café on the quay on Friday.\n\n"
            "Zoë Brontë, the council's treasurer, said the façade had cost €2m and the crème brûlée stall"
            " would stay.\n")


def test_one_invalid_sequence_in_a_utf8_file_is_replaced_not_read_as_a_legacy_code_page(tmp_path: Path):
    good = ACCENTED.encode("utf-8")
    cut = good.index(b" on Friday")
    for bad in (b"\xed\xa0\x80", b"\xff"):  # a lone surrogate, a byte UTF-8 never uses
        path = tmp_path / "article.txt"
        path.write_bytes(good[:cut] + bad + good[cut:])
        doc = read_document(path)
        assert isinstance(doc, RawDocument), doc
        assert "Mayor Élodie Müller" in doc.text and "Zoë Brontë" in doc.text and "€2m" in doc.text
        assert doc.text.count("\ufffd") == 1  # the bad sequence, once
        (note,) = doc.notes  # one warning line, in words
        assert note.startswith(f"invalid UTF-8 at byte {cut}") and "\n" not in note


def test_a_file_that_is_ascii_but_for_one_legacy_byte_is_not_read_as_broken_utf8():
    text = decode_text("Le conseil a payé 15 euros, a déclaré le maire lundi.".encode("latin-1"))
    assert text is not None and "\ufffd" not in text and "déclaré" in text


def test_a_stray_nul_is_text_and_utf16_without_a_bom_is_read(tmp_path: Path):
    (tmp_path / "nul.txt").write_bytes(ACCENTED.encode("utf-8").replace(b"quay", b"qu\x00ay"))
    (tmp_path / "le.txt").write_bytes(ACCENTED.encode("utf-16-le"))
    (tmp_path / "be.txt").write_bytes(ACCENTED.encode("utf-16-be"))
    (tmp_path / "ascii-le.txt").write_bytes(("The council met on Tuesday. " * 10).encode("utf-16-le"))
    for name in ("nul.txt", "le.txt", "be.txt"):
        doc = read_document(tmp_path / name)
        assert isinstance(doc, RawDocument), (name, doc)
        assert "Mayor Élodie Müller" in doc.text and "\x00" not in doc.text, name
        assert not doc.notes, name
    ascii_le = read_document(tmp_path / "ascii-le.txt")
    assert isinstance(ascii_le, RawDocument) and ascii_le.text.startswith("The council met on Tuesday.")


# --- issue 20, item 4: HTML nested deeper than the parser goes ----------------------------------------

def _deep_page(depth: int) -> str:
    return ("<html><head><title>Council budget</title><script>var head = 'leaked-from-head';</script></head>"
            "<body>" + "<div>" * depth
            + "<h1>Council budget approved</h1>"
            "<p>Wakefield council approved its budget on Tuesday after a long debate about the cost of care.</p>"
            "<p>The leader said the plan would protect front-line services while saving 12 million pounds.</p>"
            "<script>var body = 'leaked-from-body';</script>"
            + "</div>" * depth + "</body></html>")


def test_html_nested_deeper_than_the_parser_goes_keeps_its_article(tmp_path: Path):
    for depth in (300, 3000):  # past libxml2's 256 levels; past its 2,048 with huge_tree
        path = tmp_path / f"deep-{depth}.html"
        path.write_text(_deep_page(depth), encoding="utf-8")
        doc = read_document(path)
        assert isinstance(doc, RawDocument), (depth, doc)
        assert "Wakefield council approved its budget on Tuesday" in doc.text
        assert "saving 12 million pounds" in doc.text
        assert "leaked" not in doc.text  # real <script> elements are never article text
        assert not any("discarding" in note or "trafilatura" in note for note in doc.notes), doc.notes
    assert doc.notes == ("the page's markup nests over 255 levels deep, too deep to find the article in it;"
                         " indexed all of the page's text",)


def test_ingest_of_deeply_nested_html_warns_in_plain_words(tmp_path: Path, capsys):
    from rag.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "deep.html").write_text(_deep_page(3000), encoding="utf-8")
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(docs)]) == 0
    captured = capsys.readouterr()
    (warning,) = [line for line in captured.err.splitlines() if line.startswith("Warning: ")]
    assert "deep.html: the page's markup nests over 255 levels deep" in warning
    assert "discarding" not in captured.err and "None" not in captured.err
    assert "1 document added" in captured.out
