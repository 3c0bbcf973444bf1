import json
from pathlib import Path

import pytest

from ragops_core.errors import ExtractionError, UnsupportedDocumentError
from ragops_worker import pdfium_fallback
from ragops_worker.extraction import extract, open_pages
from tests.support.hostile_pdfs import deep_page_tree_pdf


def test_pdf_pages_keep_their_numbers(pdf_dir: Path) -> None:
    path = pdf_dir / "sample-files/004-pdflatex-4-pages/pdflatex-4-pages.pdf"
    seen: list[tuple[int, int]] = []
    result = extract(path.name, path.read_bytes(), on_page=lambda n, total: seen.append((n, total)))
    assert [p.number for p in result.pages] == [1, 2, 3, 4]
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(p.text.strip() for p in result.pages)


def test_text_and_markdown_are_one_page() -> None:
    result = extract("notes.md", b"# Title\n\nSome *notes* here.")
    assert [(p.number, p.text.split()[0]) for p in result.pages] == [(1, "#")]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("slides.pptx", b"PK\x03\x04", "unsupported file type .pptx"),
        ("fake.pdf", b"hello, not a pdf", "not a PDF"),
        ("blob.txt", b"\x00\x01\x02binary", "looks binary"),
    ],
)
def test_unsupported_files_are_named(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedDocumentError, match=message):
        extract(name, data)


def test_empty_text_file_fails_with_reason() -> None:
    with pytest.raises(ExtractionError, match="no text"):
        extract("empty.txt", b"  \n ")


def _manifest(pdf_dir: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for line in (pdf_dir / "manifest.jsonl").read_text().splitlines()
        if line.strip()
    ]


def test_every_shared_pdf_gives_text_or_a_clear_reason(pdf_dir: Path) -> None:
    """No PDF of the shared set crashes extraction: each is text or an ExtractionError with a
    reason."""
    outcomes: dict[str, str] = {}
    for entry in _manifest(pdf_dir):
        path = pdf_dir.parent / str(entry["file"])
        try:
            result = extract(path.name, path.read_bytes())
            outcomes[path.name] = f"ok {len(result.pages)}"
        except (ExtractionError, UnsupportedDocumentError) as exc:
            assert len(str(exc)) > 15, f"{path.name}: reason too terse: {exc}"
            outcomes[path.name] = f"error {exc}"
    assert outcomes["minimal_test.pdf"].startswith("error")
    assert "encrypted" in outcomes["encryption_openpassword.pdf"]
    assert "OCR" in outcomes["imagemagick-CCITTFaxDecode.pdf"]
    assert outcomes["316267.pdf"] == "ok 104"
    # pypdf cannot open the page tree of these, poppler can; we still keep the readable pages.
    assert outcomes["455746.pdf"].startswith("ok")


@pytest.mark.parametrize(
    ("name", "total"), [("504076.pdf", 33), ("455746.pdf", 86), ("040669.pdf", 26)]
)
def test_pages_pypdf_cannot_read_are_read_by_pdfium(pdf_dir: Path, name: str, total: int) -> None:
    path = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_2" / name
    result = extract(path.name, path.read_bytes())
    assert (result.total_pages, result.unreadable_pages) == (total, 0)
    assert [p.number for p in result.pages] == list(range(1, total + 1))


def test_a_recovered_page_has_its_own_text(pdf_dir: Path) -> None:
    path = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_2/504076.pdf"
    pages = {p.number: p.text for p in extract(path.name, path.read_bytes()).pages}
    # pypdf raises on pages 4, 12 and 32; each carries its own running header.
    assert "LAW LIBRARY OF CONGRESS – 2\n" in pages[4]
    assert "LAW LIBRARY OF CONGRESS – 10\n" in pages[12]
    assert "\r" not in pages[4]


def test_pages_past_the_fallback_budget_are_counted_unreadable(
    pdf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdfium_fallback, "BUDGET_SECONDS", 0.0)
    path = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_2/504076.pdf"
    result = extract(path.name, path.read_bytes())
    assert (result.total_pages, result.unreadable_pages, len(result.pages)) == (33, 3, 30)


def test_a_page_tree_too_deep_for_pypdf_is_a_damaged_pdf() -> None:
    # pypdf raises LimitReachedError past 100 levels: a permanent defect of the file, which the
    # worker fails at once instead of retrying it as a temporary error.
    with pytest.raises(ExtractionError, match="the PDF's page tree is damaged.*depth"):
        open_pages("deep.pdf", deep_page_tree_pdf(5000))


def test_a_text_file_comes_in_parts_that_split_no_word() -> None:
    text = "".join(f"line {i} has some words\n" for i in range(50_000))
    stream = open_pages("big.txt", text.encode())
    parts = list(stream.pages)
    assert stream.total_pages == 1 and stream.total_chars == len(text)
    assert len(parts) > 1 and all(p is not None and p.number == 1 for p in parts)
    assert "".join(p.text for p in parts if p is not None) == text
    assert all(p is not None and p.text.endswith("\n") for p in parts)
