"""The operator runs from the same CLI as everything else: loading that CLI must not pull in the
data plane (qdrant-client, boto3, numpy, onnxruntime...), or every operator pod pays for it."""

from __future__ import annotations

import json
import subprocess
import sys

DATA_PLANE = (
    "qdrant_client",
    "qdrant_edge",
    "boto3",
    "botocore",
    "numpy",
    "onnxruntime",
    "openai",
    "redis",
    "fastapi",
    "pypdf",
)


def test_loading_the_cli_loads_no_data_plane_library() -> None:
    code = (
        "import json, sys; import ragops_cli.main, ragops_operator.control.handlers; "
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & "
        f"set({list(DATA_PLANE)!r}))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
    )
    assert loaded == []
