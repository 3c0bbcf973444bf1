"""HTTP health probes of the control-plane components."""

from __future__ import annotations

import ssl

import httpx

from ragops_devcluster.pki import ClusterPki
from ragops_devcluster.waiting import Pending


def trusted_client_context(pki: ClusterPki) -> ssl.SSLContext:
    """Verify the API server against our CA and present the admin client certificate."""
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    context.load_cert_chain(str(pki.admin.cert), str(pki.admin.key))
    return context


def self_signed_context() -> ssl.SSLContext:
    """controller-manager and scheduler serve a self-signed cert they generate at start-up;
    their health endpoints only tell us whether they run, so the cert is not checked."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def probe(
    url: str, *, verify: ssl.SSLContext | bool = True, timeout: float = 3.0
) -> bool | Pending:
    """True when `url` answers 200; Pending with the answer (or connection error) otherwise."""
    try:
        response = httpx.get(url, verify=verify, timeout=timeout)
    except httpx.TransportError as exc:
        return Pending(f"{url}: {type(exc).__name__}: {exc}")
    if response.status_code == 200:
        return True
    return Pending(f"{url}: HTTP {response.status_code}: {response.text[:500]}")
