import json
from pathlib import Path

import pytest

from ragops_core.errors import ExtractionError, UnsupportedDocumentError
from ragops_worker.extraction import extract


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


def test_damaged_pages_are_skipped_and_counted(pdf_dir: Path) -> None:
    path = pdf_dir / "format-corpus/govdocs1-error-pdfs/error_set_2/455746.pdf"
    result = extract(path.name, path.read_bytes())
    assert result.total_pages == 86
    assert result.unreadable_pages > 0
    assert len(result.pages) + result.unreadable_pages <= 86
