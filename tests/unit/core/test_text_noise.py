from ragops_core.chunking import chunk_pages
from ragops_core.domain import Page
from ragops_core.text import RunningLines, strip_noise, terms


def test_dot_leaders_of_a_table_of_contents_go() -> None:
    assert strip_noise("1.2 Scope ........... 4") == "1.2 Scope 4"
    assert strip_noise("Inventory . . . . . . . 7") == "Inventory 7"
    assert strip_noise("Annex ……… 12") == "Annex 12"


def test_form_blanks_go_and_words_stay() -> None:
    assert strip_noise("Signature ____________ Date____") == "Signature Date"


def test_ordinary_punctuation_stays() -> None:
    text = "Wait... then sign. Version 1.2.3 applies, e.g. here; snake_case stays."
    assert strip_noise(text) == text


def test_running_headers_and_footers_are_kept_once() -> None:
    running = RunningLines()
    pages = [
        f"ACME Clinic Handbook\n{word} body text line.\nMore body.\n{word} ends.\nPage {n} of 3"
        for n, word in ((1, "Alpha"), (2, "Beta"), (3, "Gamma"))
    ]
    stripped = [running.strip(p) for p in pages]
    assert stripped[0] == pages[0]
    assert stripped[1] == "Beta body text line.\nMore body.\nBeta ends."
    assert stripped[2] == "Gamma body text line.\nMore body.\nGamma ends."


def test_a_line_repeated_in_the_middle_of_pages_is_body_text() -> None:
    running = RunningLines()
    body = "\n".join(f"line {c}" for c in "abcdefgh")
    pages = [f"Top {n}x\n{body}\nNote: wash hands.\n{body}\nEnd {n}x" for n in "pq"]
    assert running.strip(pages[0]) == pages[0]
    assert "Note: wash hands." in running.strip(pages[1])


def test_chunks_carry_no_running_lines_and_pages_stay_true() -> None:
    pages = [
        Page(number=n, text=f"ACME Handbook\nWord{n} " + "body " * 9 + f"\nPage {n}")
        for n in (1, 2, 3)
    ]
    chunks = chunk_pages(pages, chunk_words=100, overlap_words=10)
    assert len(chunks) == 1
    text = chunks[0].text
    assert text.count("ACME Handbook") == 1 and "Page 2" not in text and "Page 3" not in text
    words = text.split()
    # Page 2 starts at its first body word once the repeated header is gone.
    assert dict((p, o) for o, p in chunks[0].page_breaks)[2] == words.index("Word2")


def test_ligatures_are_spelled_out_and_match_the_question() -> None:
    assert strip_noise("The ones who see things diﬀerently, ﬁrst.") == (
        "The ones who see things differently, first."
    )
    assert terms("diﬀerently") == terms("differently")
