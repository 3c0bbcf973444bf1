"""Small PDFs, built in memory, that attack the worker: documents no file on disk needs to
hold (issue #14)."""

from __future__ import annotations

import zlib


def pdf_of_objects(objects: list[bytes]) -> bytes:
    """A PDF of `objects` (object 1 the catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def shared_stream_pdf(pages: int, words_per_page: int) -> bytes:
    """`pages` pages that all draw one compressed content stream of `words_per_page` words:
    a few kilobytes that extract to `pages * words_per_page` words."""
    lines = b"".join(
        b"(word%d alpha beta gamma delta) Tj T* " % i for i in range(words_per_page // 5)
    )
    content = zlib.compress(b"BT /F1 10 Tf 12 TL 72 720 Td " + lines + b"ET", 9)
    page_numbers = range(5, 5 + pages)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % n for n in page_numbers), pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * pages
    return pdf_of_objects(objects)


def deep_page_tree_pdf(depth: int) -> bytes:
    """One page under `depth` nested page-tree nodes (pypdf stops at 100 levels)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        parent = b"" if level == 0 else b"/Parent %d 0 R " % (number - 1)
        objects.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, number + 1))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] >>" % (depth + 1))
    return pdf_of_objects(objects)
