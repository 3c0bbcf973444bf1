from ragops_core.answering import (
    NO_DOCUMENTS,
    NOT_FOUND,
    build_sources,
    extractive_answer,
    is_abstention,
    select_sentences,
    supported,
)
from ragops_core.domain import SearchHit, StoredChunk
from ragops_core.prompting import build_prompt


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


def test_the_sentence_next_to_the_question_words_is_quoted_too() -> None:
    # The date shares no word with the question; it follows the sentence that does.
    hits = [
        hit("Apollo 11 was the first crewed landing. It landed on July 20, 1969, in the Sea."),
        hit(
            "The Apollo 11 landing was watched on television by millions around the world.", doc="x"
        ),
    ]
    answer = " ".join(extractive_answer(select_sentences("When was the Apollo 11 landing?", hits)))
    assert "July 20, 1969" in answer


def test_answers_do_not_quote_dot_leaders_or_form_blanks() -> None:
    text = (
        "Contents. Medication storage .......... 4 Inventory . . . . . . 7. "
        "Controlled drugs are counted at least every 72 hours ____ Date____ by two nurses."
    )
    answer = " ".join(
        extractive_answer(select_sentences("How often are drugs counted?", [hit(text)]))
    )
    assert "72 hours" in answer
    assert "...." not in answer and ". . . ." not in answer and "__" not in answer


POLICY = (
    "Employees of the institute book flights through the travel desk. "
    "Meals are covered by a daily allowance of 45 euros. "
    "Monthly capitation payments are made to the clinic by the insurer."
)


def test_a_question_the_documents_cannot_answer_is_not_supported() -> None:
    query = "What is the capital of France?"
    # "capital" and "capitation" share a stem: the word match alone is not support.
    ranked = select_sentences(query, [hit(POLICY)])
    assert not supported(query, ranked, similarity=0.16)
    assert not supported(query, ranked, similarity=None)


def test_a_question_the_documents_answer_is_supported() -> None:
    query = "What is the daily meal allowance?"
    ranked = select_sentences(query, [hit(POLICY)])
    # Every term in one sentence: supported even though the chunk embeds far from it.
    assert supported(query, ranked, similarity=0.22)
    assert supported(query, ranked, similarity=None)
    # The topic close in embedding space, with some of the words, is support too.
    partial = "How much is paid for food each day as an allowance?"
    assert supported(partial, select_sentences(partial, [hit(POLICY)]), similarity=0.55)


def test_abstentions_are_recognised_by_their_fixed_sentence() -> None:
    assert is_abstention(NOT_FOUND)
    assert is_abstention(f"  {NOT_FOUND} [1]")
    assert is_abstention(NO_DOCUMENTS)
    assert not is_abstention("Meals are covered by a daily allowance of 45 euros. [1]")


def test_the_llm_prompt_asks_for_the_fixed_abstention_sentence() -> None:
    assert NOT_FOUND in build_prompt("What is the capital of France?", [hit(POLICY)]).system


def test_the_cited_page_is_the_page_of_the_quoted_sentence_not_of_its_heading() -> None:
    # The heading closes page 4; the sentence the answer quotes is on page 5.
    text = "Intro words here. " * 9 + "Warranty terms. The warranty on parts lasts three years."
    chunk = hit(text, breaks=((0, 4), (29, 5)))
    ranked = select_sentences("What are the warranty terms?", [chunk])
    assert extractive_answer(ranked) == ["The warranty on parts lasts three years. [1]"]
    source = build_sources([chunk], ranked)[0]
    assert source.page == 5
    assert source.excerpt == "The warranty on parts lasts three years."


def test_a_question_with_one_word_the_documents_lack_can_still_be_supported() -> None:
    text = "Receipts for expenses must be uploaded to the Quillfeather portal within 30 days."
    query = "Which portal takes expense receipts?"  # "takes" is in no sentence
    assert supported(query, select_sentences(query, [hit(POLICY + " " + text)]), similarity=0.22)
    # Two of three terms missing is not support.
    other = "Which portal takes office keys?"
    assert not supported(other, select_sentences(other, [hit(POLICY + " " + text)]), 0.22)
