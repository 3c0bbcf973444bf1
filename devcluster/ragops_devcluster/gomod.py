"""Reading upstream go.mod files and generating the wrapper modules that build their commands."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any

from ragops_devcluster.gotool import GoToolchain, go_json
from ragops_devcluster.versions import staging_version

_STAGING_PREFIX = "./staging/"


@dataclass(frozen=True)
class UpstreamModule:
    path: str
    version: str
    source_dir: Path
    gomod: dict[str, Any]

    @property
    def go_version(self) -> str:
        return str(self.gomod.get("Go") or "1.21")


def fetch(toolchain: GoToolchain, path: str, version: str, *, workdir: Path) -> UpstreamModule:
    """Download `path@version` through the module proxy and decode its go.mod."""
    info = go_json(toolchain, ["mod", "download", "-json", f"{path}@{version}"], cwd=workdir)
    gomod = go_json(toolchain, ["mod", "edit", "-json", info["GoMod"]], cwd=workdir)
    return UpstreamModule(path=path, version=version, source_dir=Path(info["Dir"]), gomod=gomod)


def staging_replaces(kubernetes: UpstreamModule) -> list[tuple[str, str]]:
    """(module, version) for every `k8s.io/<name> => ./staging/...` replace in the release's
    go.mod."""
    target = staging_version(kubernetes.version)
    pairs = [
        (entry["Old"]["Path"], target)
        for entry in kubernetes.gomod.get("Replace") or []
        if entry["New"]["Path"].startswith(_STAGING_PREFIX)
    ]
    if not pairs:
        raise ValueError(
            f"k8s.io/kubernetes {kubernetes.version} go.mod has no staging replaces; "
            "layout changed?"
        )
    return sorted(pairs)


def _template(name: str) -> Template:
    return Template(files("ragops_devcluster").joinpath(name).read_text(encoding="utf-8"))


def kubernetes_wrapper(kubernetes: UpstreamModule) -> str:
    replaces = "\n".join(
        f"\t{module} => {module} {version}" for module, version in staging_replaces(kubernetes)
    )
    return _template("k8s_go_mod.tmpl").substitute(
        kubernetes_version=kubernetes.version, go_version=kubernetes.go_version, replaces=replaces
    )


def etcd_wrapper(etcd: UpstreamModule) -> str:
    return _template("etcd_go_mod.tmpl").substitute(
        etcd_version=etcd.version, go_version=etcd.go_version
    )


def tools_file(packages: list[str]) -> str:
    return _template("tools_go.tmpl").substitute(
        imports="\n".join(f'\t_ "{pkg}"' for pkg in packages)
    )
