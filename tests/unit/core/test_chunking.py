import pytest

from ragops_core.chunking import Chunker, chunk_pages
from ragops_core.domain import Page


def words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_chunks_have_the_configured_size_and_overlap() -> None:
    chunks = chunk_pages([Page(1, words(1200))], chunk_words=500, overlap_words=50)
    assert [len(c.text.split()) for c in chunks] == [500, 500, 300]
    assert chunks[1].text.split()[:50] == chunks[0].text.split()[-50:]
    assert chunks[2].text.split()[-1] == "w1199"


def test_every_word_lands_in_some_chunk() -> None:
    text = words(1037)
    chunks = chunk_pages([Page(1, text)], chunk_words=100, overlap_words=10)
    covered = {w for c in chunks for w in c.text.split()}
    assert covered == set(text.split())


def test_exact_multiple_gives_no_empty_tail() -> None:
    chunks = chunk_pages([Page(1, words(950))], chunk_words=500, overlap_words=50)
    assert len(chunks) == 2
    assert all(c.text for c in chunks)


def test_page_numbers_follow_the_words() -> None:
    pages = [Page(1, words(30, "a")), Page(2, ""), Page(3, words(30, "c"))]
    [chunk] = chunk_pages(pages, chunk_words=100, overlap_words=10)
    assert chunk.page_breaks == ((0, 1), (30, 3))
    assert (chunk.page_start, chunk.page_end) == (1, 3)


def test_chunk_starting_mid_document_starts_on_the_right_page() -> None:
    pages = [Page(1, words(80, "a")), Page(2, words(80, "b"))]
    chunks = chunk_pages(pages, chunk_words=50, overlap_words=10)
    assert chunks[0].page_breaks == ((0, 1),)
    assert chunks[1].page_breaks == ((0, 1), (40, 2))
    assert chunks[2].page_breaks == ((0, 2),)


def test_no_words_no_chunks() -> None:
    assert chunk_pages([Page(1, "   \n\t")]) == []


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, 11), (10, -1)])
def test_invalid_sizes_are_refused(size: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_pages([Page(1, "a b c")], chunk_words=size, overlap_words=overlap)


def test_millions_of_words_chunk_like_the_definition() -> None:
    # 2 M words: each chunk is the window [i * step, i * step + size) of the words, in order.
    size, overlap = 500, 50
    text = words(2_000_000)
    chunks = chunk_pages([Page(1, text)], chunk_words=size, overlap_words=overlap)
    every = text.split()
    step = size - overlap
    assert len(chunks) == -(-(len(every) - overlap) // step)
    for chunk in (chunks[0], chunks[1234], chunks[-2], chunks[-1]):
        start = chunk.index * step
        assert chunk.text == " ".join(every[start : start + size])


def test_a_page_in_parts_chunks_as_the_whole_page() -> None:
    # A large text file is read in parts of one page; a repeated short line at a part's edge
    # is not a running header, because only a new page's edges are.
    parts = ["Title\n" + words(700) + "\n", "Notes\n" + words(700) + "\n"]
    parts += ["Notes\n" + words(700) + "\nEnd\n"]
    whole = chunk_pages([Page(1, "".join(parts))], chunk_words=100, overlap_words=10)
    chunker = Chunker(chunk_words=100, overlap_words=10)
    in_parts = [c for part in parts for c in chunker.add(Page(1, part))] + chunker.finish()
    assert [c.text for c in in_parts] == [c.text for c in whole]
    assert sum(c.text.count("Notes") for c in whole) == 2
    assert chunker.words_added == 3 * 700 + 4
