from ragops_core.answering import NOT_FOUND, build_sources, extractive_answer, select_sentences
from ragops_core.domain import SearchHit, StoredChunk


def hit(
    text: str,
    *,
    doc: str = "d1",
    breaks: tuple[tuple[int, int], ...] = ((0, 1),),
    score: float = 1.0,
) -> SearchHit:
    return SearchHit(StoredChunk("t", doc, f"{doc}.pdf", 0, text, breaks), score)


HANDBOOK = (
    "The office opens at nine. Parking is free for visitors on weekends. "
    "Annual leave must be requested two weeks in advance through the HR portal. "
    "The cafeteria serves lunch from noon."
)


def test_answer_is_the_most_relevant_sentence_with_its_citation() -> None:
    ranked = select_sentences("How far in advance must annual leave be requested?", [hit(HANDBOOK)])
    pieces = extractive_answer(ranked)
    assert (
        pieces[0]
        == "Annual leave must be requested two weeks in advance through the HR portal. [1]"
    )
    assert all("cafeteria" not in p for p in pieces)


def test_citation_numbers_follow_source_order() -> None:
    hits = [
        hit("Cats purr softly when they feel content.", doc="a"),
        hit("Dogs bark loudly at strangers near the gate. Dogs wag their tails.", doc="b"),
    ]
    pieces = extractive_answer(select_sentences("Why do dogs bark?", hits))
    assert pieces[0].endswith("[2]")


def test_nothing_relevant_says_so() -> None:
    assert extractive_answer(select_sentences("quantum chromodynamics", [hit(HANDBOOK)])) == [
        NOT_FOUND
    ]


def test_source_cites_the_page_of_its_best_sentence() -> None:
    text = "Intro words here. " * 10 + "The warranty lasts three years."
    # 30 words on page 4, the warranty sentence on page 5.
    source = build_sources(
        [hit(text, breaks=((0, 4), (30, 5)))],
        select_sentences("How long is the warranty?", [hit(text, breaks=((0, 4), (30, 5)))]),
    )[0]
    assert source.page == 5
    assert source.excerpt == "The warranty lasts three years."
    assert source.filename == "d1.pdf"


def test_answer_stays_short() -> None:
    text = " ".join(f"Leave rule number {i} says leave is granted." for i in range(40))
    pieces = extractive_answer(select_sentences("When is leave granted?", [hit(text)]))
    assert 1 <= len(pieces) <= 3
    assert sum(len(p.split()) for p in pieces) <= 130


def test_a_sentence_repeated_by_overlapping_chunks_is_said_once() -> None:
    shared = "Visitors must sign in at the front desk before entering the lab."
    hits = [
        hit(f"Intro text here. {shared}", doc="a"),
        hit(f"{shared} Other words follow now.", doc="a"),
    ]
    ranked = select_sentences("Where must visitors sign in?", hits)
    pieces = extractive_answer(ranked)
    assert sum(shared in piece for piece in pieces) == 1
    excerpts = [s.excerpt for s in build_sources(hits, ranked)]
    assert excerpts[0] == shared and excerpts[1] != shared


def test_headings_are_not_answers() -> None:
    text = "Visitor Sign In Rules. Visitors sign in at the front desk using their badge number."
    pieces = extractive_answer(select_sentences("visitor sign in rules", [hit(text)]))
    assert pieces == ["Visitors sign in at the front desk using their badge number. [1]"]
