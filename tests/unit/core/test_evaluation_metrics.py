import math

from ragops_core.evaluation import mrr_at, ndcg_at, recall_at, summarise


def test_perfect_ranking_scores_one() -> None:
    assert recall_at(["a", "b"], {"a": 1}, 10) == 1.0
    assert ndcg_at(["a", "b"], {"a": 1}, 10) == 1.0
    assert mrr_at(["a", "b"], {"a": 1}, 10) == 1.0


def test_second_place_is_discounted() -> None:
    assert ndcg_at(["x", "a"], {"a": 1}, 10) == 1 / math.log2(3)
    assert mrr_at(["x", "a"], {"a": 1}, 10) == 0.5


def test_beyond_k_counts_as_missed() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert (
        recall_at(ranked, {"a": 1}, 10),
        ndcg_at(ranked, {"a": 1}, 10),
        mrr_at(ranked, {"a": 1}, 10),
    ) == (0, 0, 0)


def test_summary_averages_over_all_judged_queries() -> None:
    summary = summarise(
        {"q1": ["a"], "q2": ["z"]}, {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    )
    assert summary["recall@10"] == round(1 / 3, 4)
