"""`ragops operator`, `ragops crd` and `ragops rbac`, registered on the main CLI.

At the package root, not in control/: it is the operator's public entry point (ragops_cli
imports it), and it imports everything else lazily, so loading the CLI loads no kopf.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def operator(
    namespace: Annotated[
        list[str] | None,
        typer.Option(
            "--namespace",
            "-n",
            help="Watch only these namespaces (repeatable); default: the whole cluster.",
        ),
    ] = None,
    peering: Annotated[
        str | None,
        typer.Option(
            help=(
                "kopf peering object shared by replicas (needs crds/kopf-peering.yaml; the "
                "object is created at start if missing). Unset: standalone, one replica."
            )
        ),
    ] = None,
    standalone: Annotated[
        bool, typer.Option(help="Run without peering (the default; overrides --peering).")
    ] = False,
    priority: Annotated[
        int | None,
        typer.Option(help="Peering priority; the highest active replica works. Default: random."),
    ] = None,
    liveness: Annotated[
        str | None, typer.Option(help="Liveness endpoint, e.g. http://0.0.0.0:8080/healthz.")
    ] = None,
    metrics_port: Annotated[
        int,
        typer.Option(
            min=0,
            max=65535,
            help="Port of the operator's Prometheus /metrics (all interfaces); 0 turns it off.",
        ),
    ] = 8080,
    resync_seconds: Annotated[
        float, typer.Option(min=5, help="Reconcile every RAGDeployment at least this often.")
    ] = 300.0,
    verbose: Annotated[bool, typer.Option(help="Debug logging.")] = False,
    peering_lifetime: Annotated[
        int,
        typer.Option(
            min=5,
            help="Seconds a silent replica keeps its peering lease; a standby takes over after.",
        ),
    ] = 60,
) -> None:
    """Run the RAGOps operator (in a pod: its ServiceAccount; elsewhere: KUBECONFIG)."""
    from ragops_operator.run import run_operator

    run_operator(
        namespaces=list(namespace or []),
        peering=None if standalone else peering,
        priority=priority,
        liveness=liveness,
        metrics_port=metrics_port,
        resync_seconds=resync_seconds,
        verbose=verbose,
        peering_lifetime_seconds=peering_lifetime,
    )


def crd(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the RAGDeployment CRD generated from the operator's models (`crds/` holds a copy)."""
    from ragops_operator.api.crd import render_yaml

    text = render_yaml()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


def rbac(
    namespace: Annotated[
        str, typer.Option(help="Namespace of the operator's ServiceAccount.")
    ] = "ragops-system",
    chart_rules: Annotated[
        bool,
        typer.Option(
            "--chart-rules",
            help="Print the Helm chart's rule lists instead "
            "(charts/ragops-operator/files/rbac-rules.yaml).",
        ),
    ] = False,
) -> None:
    """Print the operator's ServiceAccount, ClusterRole (least privilege) and binding."""
    from ragops_operator.rbac import render_chart_rules_yaml, render_yaml

    typer.echo(render_chart_rules_yaml() if chart_rules else render_yaml(namespace), nl=False)
