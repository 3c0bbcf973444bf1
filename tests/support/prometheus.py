"""A real Prometheus for tests, exporters for it to scrape, and PromQL queries against it.

The prometheus binary is the one `ragops dev-cluster build` compiles into the dev-cluster cache
(ragops_devcluster.build.find_prometheus); a test fails with that instruction when it is missing.

    with running_exporter() as blue, running_prometheus(
        tmp_path, [blue.target(namespace="ns", pod="api-blue-0", ragops_dev_color="blue")]
    ) as prom:
        requests = Counter("ragops_http_requests_total", "...", ["status"], registry=blue.registry)
        with steady_traffic([blue], lambda: requests.labels("200").inc(), per_second=20):
            rates = values_by(
                prom.wait_for("sum by (ragops_dev_color) (rate(ragops_http_requests_total[10s]))"),
                "ragops_dev_color",
            )
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx
import pytest
from prometheus_client import CollectorRegistry, make_wsgi_app

from ragops_devcluster import build
from tests.support.net import free_port

START_DEADLINE_SECONDS = 60.0
STOP_GRACE_SECONDS = 15.0
QUERY_TIMEOUT_SECONDS = 10.0
_PORT_ATTEMPTS = 3  # a free port can be taken between choosing it and Prometheus binding it


@dataclass(frozen=True)
class ScrapeTarget:
    """One static scrape target: `host:port` and the extra labels Prometheus attaches to its
    series."""

    address: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """One element of an instant query's result (a scalar result has no labels)."""

    labels: dict[str, str]
    value: float


def values_by(samples: Sequence[Sample], label: str) -> dict[str, float]:
    """{label value: sample value}, e.g. the per-color result of a `sum by (ragops_dev_color)`."""
    values: dict[str, float] = {}
    for sample in samples:
        key = sample.labels.get(label, "")
        if key in values:
            raise AssertionError(f"two samples share {label}={key!r}: {samples}")
        values[key] = sample.value
    return values


def prometheus_binary() -> Path:
    """The cached prometheus binary; fails the test (never skips) when it is not built."""
    binary: Path | None = build.find_prometheus()
    if binary is None:
        pytest.fail(build.PROMETHEUS_NOT_BUILT, pytrace=False)
    return binary


# --- querying -------------------------------------------------------------------------------


def _decode(promql: str, body: dict[str, Any]) -> list[Sample]:
    data = body["data"]
    kind, result = data["resultType"], data["result"]
    if kind == "vector":
        return [Sample(dict(item["metric"]), float(item["value"][1])) for item in result]
    if kind == "scalar":
        return [Sample({}, float(result[1]))]
    raise AssertionError(
        f"{promql!r} returned a {kind}, not an instant vector or scalar (a bare range selector?)"
    )


def query(url: str, promql: str, *, at: float | None = None) -> list[Sample]:
    """Evaluate `promql` now (or at Unix time `at`) through GET /api/v1/query.

    A PromQL error (bad syntax, wrong types) raises AssertionError with Prometheus's message.
    """
    params = {"query": promql} if at is None else {"query": promql, "time": f"{at:.3f}"}
    response = httpx.get(f"{url}/api/v1/query", params=params, timeout=QUERY_TIMEOUT_SECONDS)
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise AssertionError(
            f"{promql!r}: HTTP {response.status_code}, not JSON: {response.text[:500]}"
        ) from None
    if body.get("status") != "success":
        raise AssertionError(
            f"{promql!r} failed: HTTP {response.status_code} "
            f"{body.get('errorType')}: {body.get('error')}"
        )
    return _decode(promql, body)


def has_value(samples: Sequence[Sample]) -> bool:
    """At least one sample, none of them NaN (a ratio or quantile over no traffic is NaN)."""
    return bool(samples) and not any(math.isnan(sample.value) for sample in samples)


def wait_for_query(
    url: str,
    promql: str,
    *,
    until: Callable[[list[Sample]], bool] = has_value,
    timeout: float = 60.0,
    interval: float = 0.5,
    diagnose: Callable[[], str] | None = None,
) -> list[Sample]:
    """Poll `promql` until `until(result)` holds (by default: it returns a value); return the
    result.

    Times out with an AssertionError carrying the query, its last result or error, and whatever
    `diagnose` adds (Prometheus.wait_for passes the scrape targets' health and the log tail).
    """
    deadline = time.monotonic() + timeout
    last: list[Sample] | str = "no answer yet"
    while True:
        try:
            samples = query(url, promql)
        except (AssertionError, httpx.HTTPError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if until(samples):
                return samples
            last = samples
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    extra = f"\n{diagnose()}" if diagnose is not None else ""
    raise AssertionError(
        f"{promql!r} did not return what was awaited in {timeout:.0f}s; last: {last}{extra}"
    )


# --- Prometheus -----------------------------------------------------------------------------


def _config(targets: Sequence[ScrapeTarget], scrape_interval: str, job: str) -> str:
    """prometheus.yml, written as JSON (which YAML reads as is): one static config per target."""
    config = {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,  # the default 10s exceeds a short interval
            "evaluation_interval": scrape_interval,
        },
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [
                    {"targets": [target.address], "labels": dict(target.labels)}
                    for target in targets
                ],
            }
        ],
    }
    return json.dumps(config, indent=2) + "\n"


class Prometheus:
    """A running prometheus process; `url` is its HTTP API's base URL."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path

    def log(self, since: int = 0) -> str:
        """The log's tail; `since` skips the bytes an earlier start attempt wrote."""
        with self.log_path.open("rb") as handle:
            handle.seek(since)
            return handle.read().decode(errors="replace")[-4000:]

    def query(self, promql: str, *, at: float | None = None) -> list[Sample]:
        return query(self.url, promql, at=at)

    def wait_for(
        self,
        promql: str,
        *,
        until: Callable[[list[Sample]], bool] = has_value,
        timeout: float = 60.0,
    ) -> list[Sample]:
        return wait_for_query(
            self.url, promql, until=until, timeout=timeout, diagnose=self.diagnose
        )

    def targets(self) -> list[dict[str, Any]]:
        """The active scrape targets as /api/v1/targets reports them (health, lastError...)."""
        response = httpx.get(f"{self.url}/api/v1/targets", timeout=QUERY_TIMEOUT_SECONDS)
        active: list[dict[str, Any]] = response.json()["data"]["activeTargets"]
        return active

    def wait_for_targets_up(self, timeout: float = 30.0) -> None:
        """Until every configured target has been scraped successfully at least once."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            active = self.targets()
            if active and all(target["health"] == "up" for target in active):
                return
            time.sleep(0.2)
        raise AssertionError(f"scrape targets not all up after {timeout:.0f}s\n{self.diagnose()}")

    def diagnose(self) -> str:
        try:
            targets = [
                f"  {t['scrapeUrl']} {t['health']} {t.get('lastError') or ''}".rstrip()
                for t in self.targets()
            ]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            targets = [f"  (targets unavailable: {exc})"]
        return "scrape targets:\n" + "\n".join(targets) + f"\nprometheus log tail:\n{self.log()}"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_GRACE_SECONDS."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def _start(binary: Path, directory: Path, config: Path, log_path: Path) -> Prometheus | None:
    """One start attempt; None when the chosen port was taken meanwhile."""
    url = f"http://127.0.0.1:{free_port()}"
    offset = log_path.stat().st_size if log_path.exists() else 0
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(binary),
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address={url.removeprefix('http://')}",
                "--log.level=info",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=directory,
        )
    prometheus = Prometheus(process, url, log_path)
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if "address already in use" in prometheus.log(offset):
                return None
            pytest.fail(
                f"prometheus exited with {process.returncode} before it was ready:\n"
                f"{prometheus.log(offset)}",
                pytrace=False,
            )
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return prometheus
        time.sleep(0.1)
    prometheus.stop()
    pytest.fail(
        f"prometheus not ready at {url} after {START_DEADLINE_SECONDS:.0f}s:\n{prometheus.log()}",
        pytrace=False,
    )


@contextlib.contextmanager
def running_prometheus(
    tmp_path: Path,
    scrape_targets: Sequence[ScrapeTarget],
    *,
    scrape_interval: str = "1s",
    job: str = "ragops",
) -> Iterator[Prometheus]:
    """Prometheus scraping `scrape_targets` every `scrape_interval`, stopped on exit.

    Its config, TSDB and log live under tmp_path/prometheus; it listens on 127.0.0.1 only and is
    ready (GET /-/ready answers 200) when the block starts. Series carry `job` and `instance`
    (the target's address) besides each target's own labels.
    """
    binary = prometheus_binary()
    directory = tmp_path / "prometheus"
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text(_config(scrape_targets, scrape_interval, job), encoding="utf-8")
    log_path = directory / "prometheus.log"
    prometheus = None
    for _ in range(_PORT_ATTEMPTS):
        prometheus = _start(binary, directory, config, log_path)
        if prometheus is not None:
            break
    if prometheus is None:
        pytest.fail(f"prometheus found no free port in {_PORT_ATTEMPTS} attempts", pytrace=False)
    try:
        yield prometheus
    finally:
        prometheus.stop()


# --- exporters ------------------------------------------------------------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every second would flood the test output."""


class Exporter:
    """A CollectorRegistry served over HTTP on 127.0.0.1:<free port>, in a background thread.

    Define metrics on `registry`, change them, and point Prometheus at `target(...)`. Changes made
    inside `atomically()` reach a scrape all together, so ratios between series (error ratio,
    quantiles) are exact rather than off by a scrape that landed half-way through an update.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._lock = threading.Lock()
        self._scrapes = 0
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            with self._lock:  # the body is rendered inside the call, so under the lock
                self._scrapes += 1
                body: list[bytes] = metrics_app(environ, start_response)
                return body

        self._server = make_server(
            "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        self.address = f"127.0.0.1:{self._server.server_port}"
        self.url = f"http://{self.address}/metrics"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"exporter-{self.address}", daemon=True
        )
        self._thread.start()

    @property
    def scrapes(self) -> int:
        """How many times the metrics were fetched (by Prometheus or anyone else)."""
        return self._scrapes

    @contextlib.contextmanager
    def atomically(self) -> Iterator[None]:
        with self._lock:
            yield

    def target(self, **labels: str) -> ScrapeTarget:
        """This exporter as a scrape target whose series get `labels` (namespace, pod, color...)."""
        return ScrapeTarget(self.address, labels)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@contextlib.contextmanager
def running_exporter(registry: CollectorRegistry | None = None) -> Iterator[Exporter]:
    exporter = Exporter(registry)
    try:
        yield exporter
    finally:
        exporter.stop()


@contextlib.contextmanager
def _all_atomically(exporters: Sequence[Exporter]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for exporter in exporters:
            stack.enter_context(exporter.atomically())
        yield


@contextlib.contextmanager
def steady_traffic(
    exporters: Exporter | Sequence[Exporter],
    step: Callable[[], None],
    *,
    per_second: float = 20.0,
) -> Iterator[None]:
    """Call `step` (one unit of simulated traffic) `per_second` times a second, in a thread.

    Paced by the clock, not by sleeps: a thread that was descheduled catches up, so rates over a
    window match `per_second` times what one step adds. Each batch runs inside atomically() of
    every exporter given (the ones whose metrics `step` changes), so no scrape sees half a step.
    An exception in `step` is raised again when the block exits.
    """
    held = [exporters] if isinstance(exporters, Exporter) else list(exporters)
    stop = threading.Event()
    failures: list[BaseException] = []

    def drive() -> None:
        started, done = time.monotonic(), 0
        while not stop.is_set():
            due = int((time.monotonic() - started) * per_second)
            try:
                with _all_atomically(held):
                    for _ in range(due - done):
                        step()
            except BaseException as exc:  # handed to the test's thread below
                failures.append(exc)
                return
            done = due
            stop.wait(min(0.05, 1 / per_second))

    thread = threading.Thread(target=drive, name="steady-traffic", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
    if failures:
        raise failures[0]
