"""`ragops dev-cluster`: build, start, inspect and stop the local control plane."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragops_devcluster import build, cluster, images, nodebuild, qdrant
from ragops_devcluster.errors import ClusterNotRunning, DevClusterError
from ragops_devcluster.nodeconfig import NodeLayout
from ragops_devcluster.paths import default_cluster_dir
from ragops_devcluster.state import Layout, load

app = typer.Typer(
    help="A local Kubernetes control plane built from Go modules, for tests and demos.",
    no_args_is_help=True,
)

DirOption = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="Cluster directory (certs, kubeconfig, etcd data, logs, PIDs). "
        "Default: $RAGOPS_DEVCLUSTER_DIR or the user cache.",
    ),
]
NiceOption = Annotated[
    int, typer.Option("--nice", min=0, max=19, help="Scheduling niceness of the Go compiler.")
]


def _progress(message: str) -> None:
    typer.echo(message, err=True)


def _fail(exc: DevClusterError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@app.command("build")
def build_command(
    nice: NiceOption = 10,
    qdrant_profile: Annotated[
        str | None,
        typer.Option(
            "--qdrant-profile",
            help="How the Qdrant server is compiled: `ci` (what the tests run, the default) or "
            f"`bench` (optimised for the benchmark, cold {qdrant.BENCH.cold}). Default: "
            f"${qdrant.PROFILE_ENV} or ci.",
        ),
    ] = None,
) -> None:
    """Build etcd, the Kubernetes control plane, kubectl, kwok, the real node (kubelet,
    kube-proxy, containerd, CNI plugins, CoreDNS, crictl), and for the tests Prometheus, helm and
    the Qdrant server.

    Each is cached by version; a cached build returns at once.
    """
    try:
        profile = qdrant.profile_named(qdrant_profile)
        binaries = build.build_all(_progress, nice=nice)
        prometheus = build.require_prometheus()
        helm = build.require_helm()
        node_binaries = nodebuild.build_node(_progress, nice=nice)
        qdrant_server = qdrant.build(_progress, nice=nice, profile=profile)
    except DevClusterError as exc:
        raise _fail(exc) from exc
    for name, path in [
        *binaries.items(),
        *node_binaries.items(),
        ("prometheus", prometheus),
        ("helm", helm),
        ("qdrant", qdrant_server),
    ]:
        typer.echo(f"{name}\t{path}")


@app.command("up")
def up_command(
    directory: DirOption = None,
    nodes: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="kwok-managed fake nodes, spread over three zones. Default: "
            f"{cluster.DEFAULT_NODES}, or 0 with --real-node (so pods land on the real node).",
        ),
    ] = None,
    real_node: Annotated[
        bool,
        typer.Option(
            "--real-node",
            help="Also run a real node `realnode` (containerd, kubelet, kube-proxy, CoreDNS) "
            "whose pods run for real; needs root. See docs/dev-cluster.md.",
        ),
    ] = False,
    nice: NiceOption = 10,
) -> None:
    """Start the control plane in the background and print the KUBECONFIG export line."""
    target = directory or default_cluster_dir()
    if nodes is None:
        nodes = 0 if real_node else cluster.DEFAULT_NODES
    try:
        # Prometheus and helm are for tests; starting a cluster does not wait for them to compile.
        binaries = build.build_all(_progress, nice=nice, with_prometheus=False, with_helm=False)
        node_binaries = nodebuild.build_node(_progress, nice=nice) if real_node else None
        started = cluster.up(target, binaries, _progress, nodes=nodes, node_binaries=node_binaries)
    except DevClusterError as exc:
        raise _fail(exc) from exc
    _progress(
        f"dev cluster up at {started.server}; stop it with: ragops dev-cluster down --dir {target}"
    )
    typer.echo(f"export KUBECONFIG={started.kubeconfig}")


@app.command("status")
def status_command(directory: DirOption = None) -> None:
    """Show each component's PID and whether the API server is ready; exit 1 unless healthy."""
    try:
        report = cluster.status(directory or default_cluster_dir())
    except DevClusterError as exc:
        raise _fail(exc) from exc
    typer.echo(f"directory   {report.directory}")
    typer.echo(f"server      {report.server}")
    typer.echo(f"kubeconfig  {report.kubeconfig}")
    for component in report.components:
        state = "running" if component.running else "NOT RUNNING"
        typer.echo(f"{component.name:<24} pid {component.pid:<8} {state:<12} log {component.log}")
    if report.node is not None:
        typer.echo(
            f"real node   realnode at {report.node.node_ip} on bridge {report.node.bridge} "
            f"(pods {report.node.subnet})"
        )
    api = "ready" if report.api_ready is True else f"not ready ({report.api_ready})"
    typer.echo(f"api         {api}")
    if not report.healthy:
        raise typer.Exit(code=1)


@app.command("down")
def down_command(directory: DirOption = None) -> None:
    """Stop every process `up` started in DIR, by PID."""
    try:
        stopped = cluster.down(directory or default_cluster_dir())
    except DevClusterError as exc:
        raise _fail(exc) from exc
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command("load-image")
def load_image_command(
    source: Annotated[
        str,
        typer.Argument(
            metavar="ARCHIVE|IMAGE",
            help="An OCI or docker archive, or the name of an image podman holds.",
        ),
    ],
    directory: DirOption = None,
) -> None:
    """Import an image into the real node's containerd (namespace k8s.io), keeping its name.

    Pods then run it with `imagePullPolicy: Never` or `IfNotPresent` (no registry is reachable).
    """
    layout = Layout((directory or default_cluster_dir()).resolve())
    try:
        recorded = load(layout)
        if recorded is None or recorded.node is None:
            raise ClusterNotRunning(
                f"no dev cluster with a real node recorded in {layout.root}: "
                f"start one with `ragops dev-cluster up --real-node --dir {layout.root}`"
            )
        node_binaries = nodebuild.require_node_built()
        socket = NodeLayout(layout.root / "node").containerd_socket
        loaded = images.load(node_binaries.ctr, socket, source, _progress)
    except DevClusterError as exc:
        raise _fail(exc) from exc
    for name in loaded.names:
        typer.echo(f"loaded {name}")
    _progress(f"loaded {len(loaded.names)} image(s) in {loaded.seconds:.1f}s")
