"""Check Grafana dashboards against what the processes really export.

Every PromQL expression of a dashboard (panel targets and `label_values(...)` variables) is
parsed with promql-parser (the Rust PromQL parser's Python bindings); each metric it selects must
be a family of the scrape of the process its `job` matcher names (a `job` value containing
`api`, `worker`, `qdrant`; no `job` matcher: any process), and every label it matches on or
groups by must be on that family's samples. Target labels that Prometheus itself attaches
(job, namespace, pod, ...) are not in a scrape and are allowed anywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import promql_parser as promql
from prometheus_client.parser import text_string_to_metric_families

# Added by Prometheus (and the Prometheus Operator's ServiceMonitor relabelling), never exported.
TARGET_LABELS = frozenset(
    {"job", "instance", "namespace", "pod", "service", "container", "endpoint", "ragops_dev_color"}
)
# Series Prometheus makes for every target.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
ROLES = ("api", "worker", "qdrant", "operator")
# Grafana's own variables, replaced before parsing (they are not PromQL).
GRAFANA_BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<selector>.+),\s*(?P<label>\w+)\s*\)\s*$")


@dataclass
class Scrape:
    """One process's /metrics: series names to their family, and the labels seen per family."""

    role: str
    family_of: dict[str, str] = field(default_factory=dict)
    labels: dict[str, set[str]] = field(default_factory=dict)
    sampled: set[str] = field(default_factory=set)  # families with at least one sample


def parse_scrape(role: str, text: str) -> Scrape:
    """HELP/TYPE lines count: a labelled family without samples still lists its name."""
    scrape = Scrape(role)
    for family in text_string_to_metric_families(text):
        if family.type not in ("counter", "histogram", "gaugehistogram"):  # no bare series there
            scrape.family_of[family.name] = family.name
        for suffix in _SUFFIXES.get(family.type, ()):
            scrape.family_of[family.name + suffix] = family.name
        labels = scrape.labels.setdefault(family.name, set())
        for sample in family.samples:
            scrape.family_of[sample.name] = family.name
            scrape.sampled.add(family.name)
            labels.update(sample.labels)
    return scrape


@dataclass(frozen=True)
class Reference:
    """One vector selector of an expression, with every label it needs."""

    expression: str
    metric: str
    labels: frozenset[str]
    job: str | None


def expressions(dashboard: dict[str, Any]) -> Iterator[str]:
    """Panel targets (rows' nested panels too) and query variables."""

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for panel in items:
            yield panel
            yield from panels(panel.get("panels") or [])

    for panel in panels(dashboard.get("panels") or []):
        for target in panel.get("targets") or []:
            if target.get("expr"):
                yield str(target["expr"])
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        yield str(query.get("query") if isinstance(query, dict) else query)


def substitute(expression: str) -> str:
    """Grafana variables: built-in durations become durations, dashboard variables a word
    (they only ever stand inside label values here)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return GRAFANA_BUILTINS.get(name, "x")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expression)


def references(expression: str) -> list[Reference]:
    """Raises ValueError when the expression does not parse."""
    text = substitute(expression)
    found = _LABEL_VALUES.match(text)
    if found:
        return [
            replace_labels(ref, ref.labels | {found["label"]})
            for ref in references(found["selector"])
        ]
    refs: list[Reference] = []
    _walk(promql.parse(text), frozenset(), expression, refs)
    return refs


def replace_labels(ref: Reference, labels: frozenset[str]) -> Reference:
    return Reference(ref.expression, ref.metric, labels, ref.job)


def _walk(node: Any, grouping: frozenset[str], expression: str, out: list[Reference]) -> None:
    """Labels of an enclosing `by`/`without`/`on`/`ignoring`/`group_left` must exist on every
    selector under it."""
    if isinstance(node, promql.VectorSelector):
        matchers = list(node.matchers.matchers)
        name = node.name or next((m.value for m in matchers if m.name == "__name__"), "")
        job = next((m.value for m in matchers if m.name == "job"), None)
        labels = {m.name for m in matchers if m.name != "__name__"}
        out.append(Reference(expression, name, frozenset(labels) | grouping, job))
    elif isinstance(node, promql.MatrixSelector):
        _walk(node.vector_selector, grouping, expression, out)
    elif isinstance(node, promql.AggregateExpr):
        inner = grouping | frozenset(node.modifier.labels if node.modifier else ())
        _walk(node.expr, inner, expression, out)
        if node.param is not None:
            _walk(node.param, grouping, expression, out)
    elif isinstance(node, promql.BinaryExpr):
        modifier, inner = node.modifier, grouping
        if modifier is not None:
            if modifier.matching is not None:
                inner |= frozenset(modifier.matching.labels)
            inner |= frozenset(modifier.group_labels or ())
        _walk(node.lhs, inner, expression, out)
        _walk(node.rhs, inner, expression, out)
    elif isinstance(node, promql.Call):
        for arg in node.args:
            _walk(arg, grouping, expression, out)
    elif isinstance(node, promql.ParenExpr | promql.UnaryExpr | promql.SubqueryExpr):
        _walk(node.expr, grouping, expression, out)
    elif not isinstance(node, promql.NumberLiteral | promql.StringLiteral):
        raise ValueError(f"unexpected PromQL node {type(node).__name__} in {expression}")


def roles_of(job: str | None) -> tuple[str, ...]:
    if job is None:
        return ROLES
    return tuple(role for role in ROLES if role in job)


def problems(dashboard: dict[str, Any], scrapes: dict[str, Scrape]) -> list[str]:
    """Everything a dashboard names that the scrapes do not have; empty when it all exists."""
    found: list[str] = []
    title = dashboard.get("title", "?")
    for expression in expressions(dashboard):
        try:
            refs = references(expression)
        except ValueError as error:
            found.append(f"{title}: does not parse: {expression}: {error}")
            continue
        for ref in refs:
            found.extend(f"{title}: {p}" for p in _check(ref, scrapes))
    return found


def _check(ref: Reference, scrapes: dict[str, Scrape]) -> list[str]:
    if ref.metric in SYNTHETIC:
        return []
    roles = roles_of(ref.job)
    if not roles:
        return [f"job {ref.job!r} names no scraped process in {ref.expression}"]
    if ref.job is None:  # any process: the one(s) that export it
        having = [scrapes[r] for r in roles if r in scrapes and ref.metric in scrapes[r].family_of]
        if not having:
            return [f"{ref.metric} is exported by no process ({ref.expression})"]
    else:
        missing = [r for r in roles if r not in scrapes or ref.metric not in scrapes[r].family_of]
        if missing:
            return [f"{ref.metric} is not exported by {', '.join(missing)} ({ref.expression})"]
        having = [scrapes[r] for r in roles]
    family = having[0].family_of[ref.metric]
    needed = ref.labels - TARGET_LABELS
    if not needed:
        return []
    if not any(family in s.sampled for s in having):
        return [
            f"{family} has no samples to check labels {sorted(needed)} against: exercise it "
            f"({ref.expression})"
        ]
    seen = set().union(*(s.labels.get(family, set()) for s in having))
    unknown = needed - seen
    if unknown:
        return [f"{family} has no label {sorted(unknown)} (has {sorted(seen)}): {ref.expression}"]
    return []
