"""Golden files of every operator builder: tests/golden/<case>/input.yaml
rendered must equal tests/golden/<case>/expected/<module>.yaml.

Regenerate after an intended change with `RAGOPS_UPDATE_GOLDEN=1 pytest <this file>` and review
the diff like code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ragops_operator.api import v1alpha1 as api
from ragops_operator.builders import api as api_builder
from ragops_operator.builders import backup, config, monitoring, network, qdrant, worker
from ragops_operator.builders.labels import Owner
from ragops_operator.objects import Obj

GOLDEN = Path(__file__).resolve().parents[3] / "golden"
CASES = ("minimal", "production")
UID = "00000000-0000-0000-0000-000000000001"
UPDATE = os.environ.get("RAGOPS_UPDATE_GOLDEN") == "1"

Builder = Callable[[api.RAGDeploymentSpec, Owner], list[Obj]]
BUILDERS: dict[str, Builder] = {
    "config": lambda spec, owner: [config.config_map(spec, owner)],
    "api": lambda spec, owner: api_builder.build(spec, owner),
    "worker": worker.build,
    "qdrant": qdrant.build,
    "network": network.build,
    "monitoring": lambda spec, owner: monitoring.build(spec, owner, prometheus_operator=True),
    "backup": lambda spec, owner: [
        *backup.build(spec, owner),
        *filter(None, [backup.restore_job(spec, owner)]),
        *(backup.network_policies(spec, owner) if spec.backup.enabled or spec.restore else []),
    ],
}


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (scripts, dashboard JSON), so diffs stay readable;
    no anchors, so every object reads on its own."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> Any:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def render(case: str, module: str) -> list[Obj]:
    resource = api.RAGDeployment.model_validate(
        yaml.safe_load((GOLDEN / case / "input.yaml").read_text())
    )
    meta = resource.metadata
    owner = Owner(name=meta["name"], namespace=meta["namespace"], uid=UID)
    return BUILDERS[module](resource.spec, owner)


@pytest.mark.parametrize("module", sorted(BUILDERS))
@pytest.mark.parametrize("case", CASES)
def test_builder_output_matches_golden_file(case: str, module: str) -> None:
    manifests = render(case, module)
    path = GOLDEN / case / "expected" / f"{module}.yaml"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.dump_all(manifests, Dumper=_Dumper, sort_keys=False, width=120))
    assert path.is_file(), (
        f"{path} is missing; create it with RAGOPS_UPDATE_GOLDEN=1 pytest {__file__}"
    )
    expected = list(yaml.safe_load_all(path.read_text()))
    assert manifests == expected, (
        f"{module} output for case {case!r} differs from "
        f"{path.relative_to(GOLDEN.parent.parent)}; if the change "
        f"is intended, regenerate with RAGOPS_UPDATE_GOLDEN=1 pytest {__file__} and review the diff"
    )


def test_production_case_exercises_the_interesting_paths() -> None:
    """The production golden must keep covering autoscaling, replication and the secret key."""
    spec = api.RAGDeployment.model_validate(
        yaml.safe_load((GOLDEN / "production" / "input.yaml").read_text())
    ).spec
    q = spec.vector_store.qdrant
    assert (q.replicas, q.replication_factor, q.storage.size, q.storage.storage_class_name) == (
        3,
        2,
        "100Gi",
        "gp3",
    )
    assert q.autoscaling.enabled and q.api_key_secret_ref is not None


def _containers_in(value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict | list):
        found.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            found.extend(_containers_in(child))
    return found


@pytest.mark.parametrize("module", sorted(BUILDERS))
def test_no_dict_or_list_is_shared_between_places(module: str) -> None:
    """A shared dict would let one later edit (or a patch) change two fields at once."""
    containers = _containers_in(render("production", module))
    assert len({id(c) for c in containers}) == len(containers)
