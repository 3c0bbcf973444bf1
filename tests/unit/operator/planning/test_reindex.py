"""The embedding-model change as a decision table: which model the pods run, which Job runs."""

from __future__ import annotations

from ragops_operator.api import v1alpha1 as api
from ragops_operator.planning import reindex
from ragops_operator.planning.reindex import IndexState, JobState, Observed, plan

LOCAL = api.EmbeddingModel(provider="local")
SMALL = api.EmbeddingModel(provider="openai", model="text-embedding-3-small")
LARGE = api.EmbeddingModel(provider="openai", model="text-embedding-3-large", dimensions=256)
QUIET = Observed(jobs={}, workers_switched=False, api_switched=False)


def _observed(**changes: object) -> Observed:
    return Observed(**{**QUIET.__dict__, **changes})  # type: ignore[arg-type]


def _reasons(result: reindex.IndexPlan) -> list[str]:
    return [reason for _, reason, _ in result.events]


def test_versions_name_the_model_and_ignore_what_the_local_model_ignores() -> None:
    assert reindex.version_of(LOCAL).startswith("local-") and reindex.version_of(SMALL).startswith(
        "openai-"
    )
    assert reindex.version_of(LOCAL) == reindex.version_of(
        api.EmbeddingModel(provider="local", model="other", dimensions=3)
    )
    assert len({reindex.version_of(m) for m in (LOCAL, SMALL, LARGE)}) == 3


def test_an_unchanged_model_needs_nothing() -> None:
    result = plan(LOCAL, IndexState(LOCAL), QUIET)
    assert (result.state.phase, result.job, result.effective, result.events) == (
        "Ready",
        None,
        LOCAL,
        (),
    )


def test_a_new_model_is_built_while_the_pods_keep_the_old_one() -> None:
    result = plan(SMALL, IndexState(LOCAL), QUIET)
    assert result.state.phase == "Building" and result.effective == LOCAL
    assert result.job is not None and result.job.kind == "reindex" and result.job.target == SMALL
    assert result.job.source == reindex.version_of(LOCAL)
    assert result.job.suffix == "reindex-" + reindex.version_of(SMALL).split("-")[1]
    assert _reasons(result) == ["ReindexStarted"]
    again = plan(SMALL, result.state, QUIET)
    assert again.job == result.job and again.events == (), "a running build is not announced twice"


def test_a_finished_build_switches_the_pods_to_the_new_model() -> None:
    building = plan(SMALL, IndexState(LOCAL), QUIET)
    assert building.job is not None
    built = plan(
        SMALL, building.state, _observed(jobs={building.job.suffix: JobState(succeeded=True)})
    )
    assert built.state.phase == "Switching" and built.effective == SMALL and built.job is None
    assert _reasons(built) == ["ReindexBuilt"]


def _switching() -> IndexState:
    building = plan(SMALL, IndexState(LOCAL), QUIET)
    assert building.job is not None
    return plan(
        SMALL, building.state, _observed(jobs={building.job.suffix: JobState(succeeded=True)})
    ).state


def test_the_catch_up_waits_until_no_worker_runs_the_old_model() -> None:
    waiting = plan(SMALL, _switching(), QUIET)
    assert waiting.state.phase == "Switching" and waiting.job is None and waiting.effective == SMALL
    catching = plan(SMALL, waiting.state, _observed(workers_switched=True))
    assert catching.state.phase == "CatchingUp" and catching.job is not None
    assert catching.job.kind == "catchup" and catching.job.source == reindex.version_of(LOCAL)


def test_ready_only_when_the_catch_up_succeeded_and_the_api_serves_the_new_model() -> None:
    catching = plan(SMALL, _switching(), _observed(workers_switched=True))
    assert catching.job is not None
    done_job = {catching.job.suffix: JobState(succeeded=True)}
    api_behind = plan(SMALL, catching.state, _observed(jobs=done_job, workers_switched=True))
    assert (
        api_behind.state.phase == "CatchingUp" and "waiting for the API" in api_behind.state.message
    )
    ready = plan(
        SMALL, api_behind.state, _observed(jobs=done_job, workers_switched=True, api_switched=True)
    )
    assert ready.state.phase == "Ready" and ready.effective == SMALL and ready.job is None
    assert ready.state.source is None and _reasons(ready) == ["Reindexed"]


def test_a_failed_api_rollout_is_reported_not_hidden() -> None:
    catching = plan(SMALL, _switching(), _observed(workers_switched=True))
    assert catching.job is not None
    result = plan(
        SMALL,
        catching.state,
        _observed(
            jobs={catching.job.suffix: JobState(succeeded=True)},
            workers_switched=True,
            api_failed="p95 latency 3.00s over 2s",
        ),
    )
    assert result.state.phase == "CatchingUp" and "p95 latency" in result.state.message


def test_a_failed_build_keeps_the_old_model_and_says_why() -> None:
    building = plan(SMALL, IndexState(LOCAL), QUIET)
    assert building.job is not None
    failed = plan(
        SMALL,
        building.state,
        _observed(jobs={building.job.suffix: JobState(failed="BackoffLimitExceeded")}),
    )
    assert failed.state.phase == "Failed" and failed.state.failed and failed.effective == LOCAL
    assert "BackoffLimitExceeded" in failed.state.message and _reasons(failed) == ["ReindexFailed"]
    assert failed.job == building.job, "the failed Job stays for its logs"
    retried = plan(SMALL, failed.state, QUIET)  # the user deleted the Job
    assert (
        retried.state.phase == "Building"
        and not retried.state.failed
        and retried.job == building.job
    )


def test_reverting_the_spec_during_a_build_cancels_it() -> None:
    building = plan(SMALL, IndexState(LOCAL), QUIET)
    reverted = plan(LOCAL, building.state, QUIET)
    assert reverted.state.phase == "Ready" and reverted.job is None and reverted.effective == LOCAL
    assert _reasons(reverted) == ["ReindexCancelled"]


def test_another_model_during_a_build_replaces_the_build() -> None:
    building = plan(SMALL, IndexState(LOCAL), QUIET)
    replaced = plan(LARGE, building.state, QUIET)
    assert (
        replaced.job is not None
        and replaced.job.target == LARGE
        and replaced.job.source == reindex.version_of(LOCAL)
    )
    assert replaced.job.suffix != (building.job.suffix if building.job else None)


def test_another_model_during_the_switch_waits_for_the_switch_to_finish() -> None:
    result = plan(LARGE, _switching(), _observed(workers_switched=True))
    assert result.state.phase == "CatchingUp" and result.effective == SMALL
    assert result.job is not None and result.job.kind == "catchup"


def test_status_round_trip_and_a_lost_status_trusts_the_live_config() -> None:
    state = plan(SMALL, IndexState(LOCAL), QUIET).state
    saved = {"index": reindex.to_status(state, "demo-reindex-1")}
    assert reindex.from_status(saved, live_embedding=None, spec=SMALL) == state
    assert reindex.from_status({}, live_embedding=LOCAL, spec=SMALL) == IndexState(LOCAL)
    assert reindex.from_status({}, live_embedding=None, spec=SMALL) == IndexState(SMALL)


def test_the_live_config_names_the_model_the_pods_run() -> None:
    from ragops_operator.builders import config
    from tests.support.builder_specs import OWNER, make_spec

    spec = make_spec(
        models={
            "embedding": {
                "provider": "openai",
                "model": "text-embedding-3-large",
                "dimensions": 256,
            },
            "credentialsSecretRef": {"name": "openai", "key": "api-key"},
        }
    )
    data = config.config_data(spec, OWNER)
    assert reindex.embedding_from_config(data, config.env_name) == LARGE
    assert data[config.env_name("index_version")] == reindex.version_of(LARGE)
    assert reindex.embedding_from_config(None, config.env_name) is None


def test_the_pods_spec_carries_the_index_model() -> None:
    from tests.support.builder_specs import make_spec

    spec = make_spec(
        models={
            "embedding": {"provider": "openai"},
            "credentialsSecretRef": {"name": "o", "key": "k"},
        }
    )
    running = reindex.effective_spec(spec, LOCAL)
    assert (
        running.models.embedding == LOCAL
        and running.models.credentials_secret_ref == spec.models.credentials_secret_ref
    )
    assert reindex.effective_spec(spec, spec.models.embedding) is spec
