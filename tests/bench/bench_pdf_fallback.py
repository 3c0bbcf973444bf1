"""The PDFium fallback on the shared PDFs: which gain text, and what the fallback costs.

For each PDF of `shared/datasets/pdfs` that pypdf opens: pypdf reads every page (as the
worker does), then `PdfiumPages` re-reads the pages pypdf failed on or found empty, as
`extraction.py` does. A second pass reads every page with PDFium alone, for its per-page
speed on readable files. Files pypdf cannot open at all (damaged cross-reference tables,
passwords) never reach the fallback and are left out.

Run: python tests/bench/bench_pdf_fallback.py
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record import record  # noqa: E402

from ragops_worker.pdfium_fallback import PdfiumPages  # noqa: E402

PDFS = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "pdfs"


def _pypdf_pages(data: bytes) -> list[str | None] | None:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return None
        pages = reader.pages
        count = len(pages)
    except Exception:  # noqa: BLE001 - the worker fails these before any page is read
        return None
    texts: list[str | None] = []
    for number in range(count):
        try:
            texts.append(pages[number].extract_text() or "")
        except Exception:  # noqa: BLE001 - an unreadable page, as in extraction.py
            texts.append(None)
    return texts


def main() -> None:
    logging.disable(logging.WARNING)  # pypdf's and the fallback's per-page warnings
    rows: list[dict[str, Any]] = []
    fallback_pages = fallback_seconds = 0.0
    whole_pages = whole_seconds = 0.0
    for line in (PDFS / "manifest.jsonl").read_text().splitlines():
        entry = json.loads(line)
        path = PDFS.parent / entry["file"]
        data = path.read_bytes()
        texts = _pypdf_pages(data)
        if texts is None:
            continue
        retry = [n for n, text in enumerate(texts, start=1) if text is None or not text.strip()]
        fallback = PdfiumPages(data, filename=path.name, budget_seconds=3600)
        started = time.perf_counter()
        gained = sum(bool((fallback.text(n) or "").strip()) for n in retry)
        fallback.close()
        elapsed = time.perf_counter() - started
        fallback_pages += len(retry)
        fallback_seconds += elapsed
        whole = PdfiumPages(data, filename=path.name, budget_seconds=3600)
        started = time.perf_counter()
        for n in range(1, len(texts) + 1):
            whole.text(n)
        whole.close()
        whole_seconds += time.perf_counter() - started
        whole_pages += len(texts)
        if retry:
            rows.append(
                {
                    "file": path.name,
                    "pages": len(texts),
                    "pypdf raised": sum(text is None for text in texts),
                    "pypdf empty": sum(text is not None for text in (texts[n - 1] for n in retry)),
                    "gained by PDFium": gained,
                    "fallback ms": round(elapsed * 1000, 1),
                }
            )
    notes = (
        f"Files pypdf opens: every page that pypdf raised on or found empty went to PDFium: "
        f"{int(fallback_pages)} pages in {fallback_seconds * 1000:,.0f} ms "
        f"({fallback_seconds * 1000 / max(fallback_pages, 1):.1f} ms a page, opening the "
        f"document included). PDFium alone over all {int(whole_pages):,} pages of those files: "
        f"{whole_seconds:.2f} s ({whole_seconds * 1000 / max(whole_pages, 1):.1f} ms a page). "
        "Pages still empty after the fallback are scans or image-only pages (no text layer) "
        "and are not counted unreadable; a page both readers fail on is. Files pypdf cannot "
        "open at all (`minimal_test.pdf`, `unreadablemetadata.pdf`, password-protected ones) "
        "do not open in PDFium either."
    )
    record("pdf-fallback", rows, notes)


if __name__ == "__main__":
    main()
