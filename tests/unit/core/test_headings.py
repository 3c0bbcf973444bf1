"""Headings in PDF text (`text.punctuate_headings`): set off with a colon so they do not run into
the sentence after them once a page's lines are joined, and nothing else is touched."""

from __future__ import annotations

from ragops_core.chunking import chunk_pages
from ragops_core.domain import Page
from ragops_core.text import punctuate_headings

PAGE = """Uploaded originals already live in the documents bucket.
Retention
Applied only after a successful backup, so a run of failures never deletes good
backups. The newest three are always kept.
Results and alerts
Every run writes its result to the termination log."""


def test_a_line_between_a_finished_sentence_and_a_capitalised_one_is_a_heading() -> None:
    marked = punctuate_headings(PAGE).splitlines()
    assert marked[1] == "Retention:"
    assert marked[4] == "Results and alerts:"
    # Nothing else changes, and no word is added or lost.
    assert [line for n, line in enumerate(marked) if n not in (1, 4)] == [
        line for n, line in enumerate(PAGE.splitlines()) if n not in (1, 4)
    ]
    assert len(punctuate_headings(PAGE).split()) == len(PAGE.split())


def test_the_chunk_text_keeps_the_heading_apart_from_its_sentence() -> None:
    (chunk,) = chunk_pages([Page(number=1, text=PAGE)])
    assert "Retention: Applied only after" in chunk.text
    assert "Results and alerts: Every run" in chunk.text


def test_lines_that_continue_or_are_not_words_stay_as_they_are() -> None:
    cases = [
        # A short line starting a sentence that goes on in lower case.
        "The key is rotated.\nThen the operator\nrestarts the pods.",
        # A page number, a date range and a table cell between sentences.
        "End of part one.\n12\nNext part.",
        "Valid dates.\n19980702 – 20000630\nStart date.",
        "Codes follow.\nY = Yes\nN = No",
        # A title cut across two lines: it ends on a word that cannot end a heading.
        "Course notes.\nIntroduction to the\nGeometry of spaces",
        # Already punctuated, or ending the text.
        "A sentence.\nOptions:\nTimeout in seconds.",
        "A sentence.\nClosing words",
    ]
    for text in cases:
        assert punctuate_headings(text) == text, text


def test_a_list_after_a_heading_does_not_become_headings() -> None:
    # Items are judged against the line before as it was, not as marked.
    text = "Our product has these features\nFast search\nEasy setup\nSmall images"
    assert punctuate_headings(text) == text.replace("features", "features:", 1)
