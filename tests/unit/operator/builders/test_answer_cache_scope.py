"""Each API color answers under a cache scope of its own template (RAGOPS_ANSWER_CACHE_SCOPE):
the colors share one Redis, and a promoted image must not serve the answers of the one it
replaced."""

from __future__ import annotations

from ragops_operator.builders import api as api_builder
from ragops_operator.objects import Obj
from tests.support.builder_specs import OWNER, make_spec


def _scope(deployment: Obj) -> str:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    values = [e["value"] for e in container["env"] if e["name"] == "RAGOPS_ANSWER_CACHE_SCOPE"]
    assert len(values) == 1, container["env"]
    return str(values[0])


def test_the_scope_is_the_colors_template_hash() -> None:
    spec = make_spec()
    blue = api_builder.deployment(spec, OWNER, "blue")
    green = api_builder.deployment(spec, OWNER, "green")
    annotation = blue["metadata"]["annotations"][api_builder.TEMPLATE_ANNOTATION]
    # The same template answers alike whichever color runs it.
    assert _scope(blue) == _scope(green) == annotation == api_builder.template_hash(spec, OWNER)


def test_a_new_image_answers_under_a_new_scope() -> None:
    before = api_builder.deployment(make_spec(image="ragops/ragops:0.1.0"), OWNER, "blue")
    after = api_builder.deployment(make_spec(image="ragops/ragops:0.2.0"), OWNER, "green")
    assert _scope(before) != _scope(after)
