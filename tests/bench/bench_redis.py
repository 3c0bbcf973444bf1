"""`/api/ask` cache hits through Redis, against FastAPI + one Redis GET, at concurrency 1 and 64.

The rate limit is off for the main rows (wrk is one user asking thousands of times); the last
rows count every hit against a limit too high to refuse any, in the same Redis: its cost.

Run: python tests/bench/bench_redis.py   (needs `wrk` and `redis-server` from Debian)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ask import UNLIMITED, build_index, start, wrk  # noqa: E402
from record import record  # noqa: E402

from tests.support.net import free_port  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402


def main() -> None:
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install {tool}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ragops-bench-") as tmp:
        redis = RedisServer(Path(tmp) / "redis")
        env = {**os.environ, "RAGOPS_REDIS_URL": redis.url, **UNLIMITED}
        try:
            data = Path(tmp) / "data"
            asyncio.run(build_index(data))
            port = free_port()
            server = start(
                [
                    sys.executable,
                    "-m",
                    "ragops_cli",
                    "serve",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data),
                    "--log-level",
                    "warning",
                ],
                port,
                Path(tmp) / "serve.log",
                env=env,
            )
            try:
                httpx.post(
                    f"http://127.0.0.1:{port}/api/ask",
                    json={"query": "When did the Apollo program start?"},
                )
                rows.append({"case": "RAGOps hit through Redis, c=1", **wrk(port, 1)})
                rows.append({"case": "RAGOps hit through Redis, c=64", **wrk(port, 64)})
            finally:
                server.terminate()
                server.wait(30)
            port = free_port()
            bare = start(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(Path(__file__).parent),
                    "bare_redis_app:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                port,
                Path(tmp) / "bare.log",
                env=env,
            )
            try:
                rows.append({"case": "bare FastAPI + one Redis GET, c=1", **wrk(port, 1)})
                rows.append({"case": "bare FastAPI + one Redis GET, c=64", **wrk(port, 64)})
            finally:
                bare.terminate()
                bare.wait(30)
            port = free_port()
            limited = {**env, "RAGOPS_RATE_LIMIT_QUESTIONS": "1000000000/minute"}
            server = start(
                [
                    sys.executable,
                    "-m",
                    "ragops_cli",
                    "serve",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data),
                    "--log-level",
                    "warning",
                ],
                port,
                Path(tmp) / "serve-limited.log",
                env=limited,
            )
            try:
                httpx.post(
                    f"http://127.0.0.1:{port}/api/ask",
                    json={"query": "When did the Apollo program start?"},
                )
                rows.append(
                    {
                        "case": "RAGOps hit through Redis + rate limit check in Redis, c=1",
                        **wrk(port, 1),
                    }
                )
                rows.append(
                    {
                        "case": "RAGOps hit through Redis + rate limit check in Redis, c=64",
                        **wrk(port, 64),
                    }
                )
            finally:
                server.terminate()
                server.wait(30)
        finally:
            redis.stop()
    ratio = rows[1]["rps"] / rows[3]["rps"]
    record(
        "redis",
        rows,
        notes=(
            "Cache hits through a local redis-server (Debian 7.0), 10k-chunk index, wrk 10 s. "
            "RAGOps at c=64 reaches "
            f"**{ratio:.2f}x** the bare endpoint's throughput. "
            "Targets: >= 1,500 requests/s, p95 <= 3 ms at c=1. "
            "Rate limit off in the first rows; the last two check each hit against a per-user "
            "limit in the same Redis (one more round trip): "
            f"{rows[5]['rps'] / rows[1]['rps']:.2f}x the throughput without it at c=64."
        ),
    )


if __name__ == "__main__":
    main()
