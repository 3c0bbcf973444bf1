"""`spec.aws`: the AWS SDK's own standard variables for every pod that calls AWS.

The services build their boto3 clients without an explicit endpoint or credentials, so the
SDK's configuration chain decides: `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_SQS` /
`AWS_ENDPOINT_URL` (botocore >= 1.31), `AWS_REGION`, and the credentials chain, where
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` come before IRSA's web identity. Rendering the
same variables here is what lets one image run against AWS, MinIO, LocalStack or moto.

Region and endpoints are not secret: they go into the stack's ConfigMap (every pod of the stack
reads it with `envFrom`), so a change restarts the pods like any other setting. Credentials are
`secretKeyRef`s, which the SecretsResolved check covers like every other reference.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ragops_operator.api import v1alpha1 as api

ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID"
SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY"
SESSION_TOKEN = "AWS_SESSION_TOKEN"
CREDENTIAL_NAMES = frozenset({ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN})
HTTPS_PORT = 443
HTTP_PORT = 80


def config_values(spec: api.RAGDeploymentSpec) -> dict[str, str]:
    """ConfigMap entries: region (both names: boto3 reads AWS_DEFAULT_REGION, our adapters and
    other SDKs AWS_REGION) and endpoints; empty when nothing is set."""
    aws = spec.aws
    values: dict[str, str | None] = {
        "AWS_REGION": aws.region,
        "AWS_DEFAULT_REGION": aws.region,
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ENDPOINT_URL_S3": aws.s3_endpoint_url,
        "AWS_ENDPOINT_URL_SQS": aws.sqs_endpoint_url,
    }
    return {name: value for name, value in values.items() if value is not None}


def secret_env(spec: api.RAGDeploymentSpec) -> list[dict[str, Any]]:
    """Env entries of the static credentials; [] without `spec.aws.credentialsSecretRef`."""
    ref = spec.aws.credentials_secret_ref
    if ref is None:
        return []
    keys = [(ACCESS_KEY_ID, ref.access_key_id_key), (SECRET_ACCESS_KEY, ref.secret_access_key_key)]
    if ref.session_token_key is not None:
        keys.append((SESSION_TOKEN, ref.session_token_key))
    return [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": key}}}
        for name, key in keys
    ]


def endpoint_ports(spec: api.RAGDeploymentSpec) -> list[int]:
    """TCP ports of the configured endpoints other than HTTPS (e.g. 9000 for MinIO, 5000 for
    moto), which the NetworkPolicies must let the AWS-calling pods reach; sorted, no repeats."""
    aws = spec.aws
    ports: set[int] = set()
    for url in (aws.endpoint_url, aws.s3_endpoint_url, aws.sqs_endpoint_url):
        if url is None:
            continue
        parts = urlsplit(url)
        ports.add(parts.port or (HTTPS_PORT if parts.scheme == "https" else HTTP_PORT))
    ports.discard(HTTPS_PORT)  # every AWS-calling pod's policy allows 443 already
    return sorted(ports)
