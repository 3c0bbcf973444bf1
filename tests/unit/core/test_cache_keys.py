from ragops_core import cache_keys


def key(**overrides: object) -> str:
    args: dict[str, object] = dict(
        tenant="acme",
        query="What is RAG?",
        embedder="m1",
        model="extractive",
        mode="hybrid",
        top_k=3,
    )
    args.update(overrides)
    return cache_keys.answer_key(**args)  # type: ignore[arg-type]


def test_same_question_modulo_case_and_spaces_shares_a_key() -> None:
    assert key() == key(query="  what   is rag? ")


def test_every_dependency_of_an_answer_changes_the_key() -> None:
    base = key()
    for change in (
        {"tenant": "other"},
        {"query": "What is ROG?"},
        {"embedder": "m2"},
        {"model": "gpt"},
        {"mode": "bm25"},
        {"top_k": 5},
        {"scope": "3f9c0a1b2c4d"},
    ):
        assert key(**change) != base, change


def test_tenants_never_share_keys_or_tags() -> None:
    assert cache_keys.answer_tags("a", ["d1"]) != cache_keys.answer_tags("b", ["d1"])
    assert cache_keys.document_tag("a", "d1") != cache_keys.document_tag("b", "d1")


def test_answer_tags_name_tenant_and_each_cited_document_once() -> None:
    tags = cache_keys.answer_tags("acme", ["d2", "d1", "d2"])
    assert tags == ["tenant:acme", "document:acme:d1", "document:acme:d2"]


def test_embedding_key_depends_on_model() -> None:
    assert cache_keys.embedding_key(embedder="a", query="q") != cache_keys.embedding_key(
        embedder="b", query="q"
    )
