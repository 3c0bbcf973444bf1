"""README command 1 on a fresh clone: `pip install -e .` builds the chat page into the package, and
`ragops serve` serves it at `/` with its assets, /docs without any CDN, and a banner naming it.

The clone is a copy of the files git tracks (or would: untracked, not ignored), so no earlier
build of the checkout is in it. Dependencies come from this venv through a .pth file, so only
`ragops` itself is installed, in a new venv, the way the README says (build isolation included).
Needs Node >= 20.19 with npm and the npm registry (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.net import free_port
from tests.support.processes import clean_env, wait_ready

REPO = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT_SECONDS = 900
# A URL with a host: anything the page would fetch from elsewhere than this server.
_EXTERNAL = re.compile(r"(?:https?:)?//[\w.-]+\.\w+", re.IGNORECASE)
_REFERENCED = re.compile(r"""(?:src|href)=["']([^"']+)["']""", re.IGNORECASE)


@dataclass(frozen=True)
class Served:
    clone: Path
    url: str
    log: Path


def _fresh_clone(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # deleted in the work tree but still in the index: not in a clone
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} failed ({result.returncode}):\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    return result


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if shutil.which("npm") is None:
        pytest.fail("npm not found: run scripts/install-system-deps.sh", pytrace=False)
    base = tmp_path_factory.mktemp("fresh-clone")
    clone = _fresh_clone(base / "ragops")
    assert not (clone / "services" / "ragops_api" / "static" / "chat").exists()
    venv = base / "venv"
    _run([str(Path(sysconfig.get_paths()["scripts"]) / "python"), "-m", "venv", str(venv)], base)
    # This venv's site-packages also holds ragops-devcluster's entry point (the `dev-cluster`
    # plugin), so its package must be importable too: the clone's devcluster/.
    (venv / "lib" / "python3.11" / "site-packages" / "deps.pth").write_text(
        f"{sysconfig.get_paths()['purelib']}\n{clone / 'devcluster'}\n"
    )
    # README command 1, less the dependencies (already in this venv).
    _run([str(venv / "bin" / "pip"), "install", "--no-deps", "-e", "."], clone)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = base / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "ragops"), "serve", "--port", str(port)],
            cwd=clone,
            env=clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(process, url, lambda: log.read_text()[-4000:])
            yield Served(clone=clone, url=url, log=log)
        finally:
            process.terminate()
            process.wait(timeout=60)


def _assets(html: str) -> list[str]:
    return [ref for ref in _REFERENCED.findall(html) if ref.startswith("/")]


def _content_type(path: str) -> str:
    return {".js": "javascript", ".css": "text/css", ".png": "image/png"}[Path(path).suffix]


def test_command_1_serves_the_chat_page_with_its_assets_at_root(served: Served) -> None:
    page = httpx.get(f"{served.url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<title>RAGOps chat</title>" in page.text and '<div id="root">' in page.text
    assets = _assets(page.text)
    assert {Path(a).suffix for a in assets} == {".js", ".css"}, page.text
    for asset in assets:
        response = httpx.get(f"{served.url}{asset}")
        assert response.status_code == 200, asset
        assert _content_type(asset) in response.headers["content-type"], asset
    assert not (served.clone / "services" / "chat-ui" / "dist").exists()


def test_the_docs_page_names_no_other_host_and_its_assets_load(served: Served) -> None:
    page = httpx.get(f"{served.url}/docs")
    assert page.status_code == 200
    assert _EXTERNAL.findall(page.text) == []
    assets = _assets(page.text)
    assert {Path(a).suffix for a in assets} == {".js", ".css", ".png"}, page.text
    for asset in assets:
        response = httpx.get(f"{served.url}{asset}")
        assert response.status_code == 200, asset
        assert _content_type(asset) in response.headers["content-type"], asset
        if asset.endswith(".js"):
            assert "SwaggerUIBundle" in response.text
    # The same for ReDoc.
    redoc = httpx.get(f"{served.url}/redoc")
    assert redoc.status_code == 200 and _EXTERNAL.findall(redoc.text) == []


def test_the_start_up_banner_names_the_chat_page(served: Served) -> None:
    assert f"chat page: {served.url}/\n" in served.log.read_text()


def test_a_wheel_of_the_clone_carries_the_chat_page(
    served: Served, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # `pip install .` (and the image) install a wheel: the built page must be in it.
    wheels = tmp_path_factory.mktemp("wheels")
    pip = Path(sysconfig.get_paths()["scripts"]) / "pip"
    _run([str(pip), "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."], served.clone)
    (wheel,) = wheels.glob("ragops-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "ragops_api/static/chat/index.html" in names
    assert [n for n in names if re.fullmatch(r"ragops_api/static/chat/assets/index-.+\.js", n)]
