"""The example RAGDeployment the platform module renders from its outputs, rendered here with
example output values and validated against the CRD's openAPIV3Schema."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
import yaml

from tests.terraform import hcl

PLATFORM = hcl.MODULES / "platform"
TEMPLATE = PLATFORM / "templates" / "ragdeployment.yaml.tftpl"
CRD = hcl.REPO / "crds" / "ragops.dev_ragdeployments.yaml"
INTERPOLATION = re.compile(r"\$\{([a-z_]+)\}")

# What `terraform output ragdeployment_values` looks like on a prod account.
EXAMPLE_OUTPUTS = {
    "name": "rag",
    "namespace": "prod",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ragops:0.1.0",
    "storage_class": "gp3",
    "documents_bucket": "acme-ragops-prod-documents",
    "documents_prefix": "prod",
    "kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    "queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/ragops-prod-ingest",
    "backups_bucket": "acme-ragops-prod-backups",
    "backups_prefix": "backups",
    "bedrock_model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "region": "eu-west-1",
    "jwks_url": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI/.well-known/jwks.json",
    "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
    "audience": "1example23456789clientid",
    "role_arn": "arn:aws:iam::123456789012:role/ragops-prod-rag-stack",
}


def render(values: dict[str, str]) -> str:
    """templatefile() for a template made of plain ${name} interpolations only."""
    text = TEMPLATE.read_text(encoding="utf-8")
    assert "%{" not in text, "directives are not rendered here; keep the template to ${name}"
    return INTERPOLATION.sub(lambda m: values[m.group(1)], text)


def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["storage"]]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def test_the_template_takes_exactly_the_values_the_module_passes() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    used = set(INTERPOLATION.findall(text))
    assert len(re.findall(r"\$\{", text)) == len(INTERPOLATION.findall(text)), (
        "only ${name} interpolations"
    )
    passed = set(hcl.load(PLATFORM).locals()["ragdeployment_values"])
    assert used == passed == set(EXAMPLE_OUTPUTS)
    output = hcl.load(PLATFORM).outputs()["ragdeployment_yaml"]["value"]
    assert "templates/ragdeployment.yaml.tftpl" in output and "local.ragdeployment_values" in output


def test_the_rendered_ragdeployment_validates_against_the_crd() -> None:
    manifest = yaml.safe_load(render(EXAMPLE_OUTPUTS))
    assert (manifest["apiVersion"], manifest["kind"]) == ("ragops.dev/v1alpha1", "RAGDeployment")
    # OpenAPI v3.0 schemas follow draft 4 (exclusiveMinimum is a boolean there).
    validator = jsonschema.Draft4Validator(crd_schema())
    errors = sorted(
        f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)
    )
    assert errors == []


def test_the_outputs_fill_the_fields_a_ragdeployment_takes_from_the_account() -> None:
    spec = yaml.safe_load(render(EXAMPLE_OUTPUTS))["spec"]
    assert spec["documents"] == {
        "bucket": EXAMPLE_OUTPUTS["documents_bucket"],
        "prefix": EXAMPLE_OUTPUTS["documents_prefix"],
        "kmsKeyId": EXAMPLE_OUTPUTS["kms_key_arn"],
        "queueUrl": EXAMPLE_OUTPUTS["queue_url"],
    }
    assert spec["auth"] == {
        "jwksUrl": EXAMPLE_OUTPUTS["jwks_url"],
        "issuer": EXAMPLE_OUTPUTS["issuer"],
        "audience": EXAMPLE_OUTPUTS["audience"],
    }
    assert spec["serviceAccount"] == {"iamRoleArn": EXAMPLE_OUTPUTS["role_arn"]}
    assert spec["backup"]["bucket"] == EXAMPLE_OUTPUTS["backups_bucket"]
    assert spec["vectorStore"]["qdrant"]["storage"]["storageClassName"] == "gp3"


@pytest.mark.parametrize(
    "field,value",
    [("documents_bucket", "x"), ("role_arn", "[]"), ("image", '""')],
)
def test_the_validation_catches_a_bad_output(field: str, value: str) -> None:
    manifest = yaml.safe_load(render({**EXAMPLE_OUTPUTS, field: value}))
    assert list(jsonschema.Draft4Validator(crd_schema()).iter_errors(manifest)) != []
