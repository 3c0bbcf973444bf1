"""Security properties over the parsed HCL: no public bucket, encryption at rest on every store
and queue, TLS on Redis, no IAM `*` on `*`, and IRSA policies exactly as the pods' code needs."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.terraform import hcl

S3_MODULE = "terraform-aws-modules/s3-bucket/aws"
PUBLIC_ACCESS_BLOCK = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)
ROOTS = hcl.all_roots()
DATA = hcl.load(hcl.MODULES / "data")
IAM = hcl.load(hcl.MODULES / "workload-iam")


def modules_from(source: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (root.name, name, body)
        for root in ROOTS
        for name, body in root.modules().items()
        if body["source"] == source
    ]


def test_the_buckets_are_all_made_with_the_s3_module() -> None:
    assert [(r.name, key) for r in ROOTS for key in r.resources("aws_s3_bucket")] == []
    buckets = {(root, name) for root, name, _ in modules_from(S3_MODULE)}
    assert buckets == {
        ("data", "documents"),
        ("data", "backups"),
        ("data", "documents_replica"),
        ("data", "backups_replica"),
        ("edge", "site"),
        ("audit", "trail_bucket"),
    }


@pytest.mark.parametrize(
    "root,name,body", modules_from(S3_MODULE), ids=lambda v: v if isinstance(v, str) else ""
)
def test_no_bucket_is_public(root: str, name: str, body: dict[str, Any]) -> None:
    assert {flag: body.get(flag) for flag in PUBLIC_ACCESS_BLOCK} == dict.fromkeys(
        PUBLIC_ACCESS_BLOCK, True
    )
    assert body["object_ownership"] == "BucketOwnerEnforced"  # ACLs off: no public ACL possible
    assert "acl" not in body
    assert body["attach_deny_insecure_transport_policy"] is True


@pytest.mark.parametrize(
    "root,name,body", modules_from(S3_MODULE), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_bucket_is_encrypted_at_rest(root: str, name: str, body: dict[str, Any]) -> None:
    default = body["server_side_encryption_configuration"]["rule"][
        "apply_server_side_encryption_by_default"
    ]
    if name == "site":  # public web content behind CloudFront OAC: SSE-S3 (see the module)
        assert default == {"sse_algorithm": "AES256"}
    else:
        assert default["sse_algorithm"] == "aws:kms" and default["kms_master_key_id"].startswith(
            "${module."
        )
    assert body["versioning"] == {"enabled": True}


def test_the_site_bucket_is_read_only_through_cloudfront() -> None:
    edge = hcl.load(hcl.MODULES / "edge")
    statement = edge.data("aws_iam_policy_document")["site"]["statement"]
    assert len(statement) == 1
    assert statement[0]["principals"] == [
        {"type": "Service", "identifiers": ["cloudfront.amazonaws.com"]}
    ]
    assert statement[0]["actions"] == ["s3:GetObject"]
    assert statement[0]["condition"][0]["variable"] == "AWS:SourceArn"
    assert (
        edge.modules()["cdn"]["default_cache_behavior"]["viewer_protocol_policy"]
        == "redirect-to-https"
    )


def test_documents_lifecycle_and_backups_retention() -> None:
    documents = DATA.modules()["documents"]["lifecycle_rule"][0]
    assert documents["transition"] == [
        {"days": "${var.documents_glacier_after_days}", "storage_class": "GLACIER_IR"}
    ]
    assert DATA.variables()["documents_glacier_after_days"]["default"] == 90
    backups = DATA.modules()["backups"]
    assert backups["object_lock_enabled"] is True
    assert backups["object_lock_configuration"]["rule"]["default_retention"]["mode"] == "GOVERNANCE"


def test_queues_are_encrypted_with_kms_and_dead_letter() -> None:
    queue = DATA.modules()["queue"]
    assert queue["source"] == "terraform-aws-modules/sqs/aws"
    assert (
        queue["sqs_managed_sse_enabled"] is False and queue["dlq_sqs_managed_sse_enabled"] is False
    )
    assert hcl.expr(queue["kms_master_key_id"]) == "module.kms.key_arn"
    assert hcl.expr(queue["dlq_kms_master_key_id"]) == "module.kms.key_arn"
    assert queue["create_dlq"] is True
    assert hcl.expr(queue["redrive_policy"]["maxReceiveCount"]) == "var.queue_max_receive_count"
    notification = DATA.resources("aws_s3_bucket_notification")[
        ("aws_s3_bucket_notification", "documents")
    ]
    assert notification["queue"][0]["events"] == ["s3:ObjectCreated:*"]


def test_redis_has_tls_auth_multi_az_and_encryption_at_rest() -> None:
    redis = DATA.resources("aws_elasticache_replication_group")[
        ("aws_elasticache_replication_group", "redis")
    ]
    assert redis["transit_encryption_enabled"] is True
    assert hcl.expr(redis["auth_token"]) == "random_password.redis_auth.result"
    assert (
        redis["at_rest_encryption_enabled"] is True
        and hcl.expr(redis["kms_key_id"]) == "module.kms.key_arn"
    )
    assert redis["multi_az_enabled"] is True and redis["automatic_failover_enabled"] is True
    assert hcl.expr(redis["num_cache_clusters"]) == "1 + var.redis_replicas"
    assert DATA.variables()["redis_replicas"]["default"] == 2
    assert DATA.variables()["redis_node_type"]["default"] == "cache.r6g.large"
    secret = DATA.resources("aws_secretsmanager_secret_version")[
        ("aws_secretsmanager_secret_version", "redis")
    ]
    assert "rediss://" in secret["secret_string"]  # the URL the pods get speaks TLS


def test_every_secret_log_group_registry_and_key_is_encrypted() -> None:
    unencrypted = []
    for root in ROOTS:
        for (rtype, name), body in root.resources().items():
            if (
                rtype in ("aws_secretsmanager_secret", "aws_cloudwatch_log_group")
                and "kms_key_id" not in body
            ):
                unencrypted.append(f"{root.name}: {rtype}.{name}")
    # The CloudFront WAF log group lives in us-east-1, where no customer key is kept (checkov
    # CKV_AWS_158, accepted in terraform/.checkov.yaml): CloudWatch Logs encrypts it with its own.
    assert unencrypted == ["edge: aws_cloudwatch_log_group.waf_cloudfront"]
    for _, name, body in modules_from("terraform-aws-modules/ecr/aws"):
        assert body["repository_encryption_type"] == "KMS", name
        assert (
            body["repository_image_tag_mutability"] == "IMMUTABLE"
            and body["repository_image_scan_on_push"] is True
        )
    for _, name, body in modules_from("terraform-aws-modules/kms/aws"):
        assert body["enable_key_rotation"] is True, name


def _statements(value: Any) -> list[dict[str, Any]]:
    """Every IAM-statement-like mapping (has actions) anywhere in a parsed block."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if "actions" in value or "Action" in value:
            found.append(value)
        for child in value.values():
            found += _statements(child)
    elif isinstance(value, list):
        for child in value:
            found += _statements(child)
    return found


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def test_no_iam_statement_allows_every_action_on_every_resource() -> None:
    statements = [(root.name, s) for root in ROOTS for s in _statements(root.blocks)]
    assert len(statements) > 20
    wildcard_text = [
        root.name for root in ROOTS if re.search(r'Action\s*[=:]\s*\[?\s*"\*"', str(root.blocks))
    ]
    assert wildcard_text == []
    for root, statement in statements:
        actions = _as_list(statement.get("actions", statement.get("Action")))
        resources = _as_list(statement.get("resources", statement.get("Resource", ["*"])))
        assert not ({"*", "*:*"} & set(actions) and "*" in resources), (root, statement)
        assert not any(a.endswith(":*") for a in actions), (root, statement)


EXPECTED_POLICIES = {
    "api": {
        "Documents": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
        "ListDocuments": ["s3:ListBucket"],
        "EnqueueDocuments": ["sqs:SendMessage", "sqs:GetQueueAttributes"],
        "DataKey": ["kms:GenerateDataKey", "kms:Decrypt"],
    },
    "worker": {
        "ReadDocuments": ["s3:GetObject"],
        "ListDocuments": ["s3:ListBucket"],
        "ConsumeQueue": [
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:SendMessage",
        ],
        "DataKey": ["kms:GenerateDataKey", "kms:Decrypt"],
    },
    "backup": {
        "Backups": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
        "ListBackups": ["s3:ListBucket"],
        "DataKey": ["kms:GenerateDataKey", "kms:Decrypt"],
    },
}
EXPECTED_RESOURCES = {
    "Documents": ["${local.documents_objects}"],
    "ReadDocuments": ["${local.documents_objects}"],
    "ListDocuments": ["${var.documents_bucket_arn}"],
    "EnqueueDocuments": ["${var.queue_arn}"],
    "ConsumeQueue": ["${var.queue_arn}"],
    "DataKey": ["${var.kms_key_arn}"],
    "Backups": ["${var.backups_bucket_arn}/${local.backups_path}/*"],
    "ListBackups": ["${var.backups_bucket_arn}"],
}


@pytest.mark.parametrize("component", sorted(EXPECTED_POLICIES))
def test_irsa_policies_are_exactly_what_the_pods_call(component: str) -> None:
    document = IAM.data("aws_iam_policy_document")[component]
    statements = {s["sid"]: s for s in document["statement"]}
    assert {sid: s["actions"] for sid, s in statements.items()} == EXPECTED_POLICIES[component]
    assert {sid: s["resources"] for sid, s in statements.items()} == {
        sid: EXPECTED_RESOURCES[sid] for sid in statements
    }
    for sid, statement in statements.items():
        if sid.startswith("List"):  # listing is confined to the component's own prefix
            assert statement["condition"][0]["variable"] == "s3:prefix"
    assert "secretsmanager" not in str(
        document
    )  # the pods read Kubernetes Secrets, never Secrets Manager


def test_only_the_api_invokes_bedrock_and_only_the_fallback_model() -> None:
    api = IAM.data("aws_iam_policy_document")["api"]
    bedrock = api["dynamic"][0]["statement"]["content"][0]
    assert bedrock["actions"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert hcl.expr(bedrock["resources"]) == "var.bedrock_model_arns"
    assert "bedrock" not in str(IAM.data("aws_iam_policy_document")["worker"])
    platform = hcl.load(hcl.MODULES / "platform").modules()["workload_iam"]
    assert (
        "foundation-model/${var.ragdeployment.bedrock_model_id}"
        in platform["bedrock_model_arns"][0]
    )


def test_prefixes_scope_the_object_resources() -> None:
    locals_ = IAM.locals()
    assert locals_["documents_objects"] == "${var.documents_bucket_arn}/${var.documents_prefix}/*"
    assert (
        locals_["backups_path"]
        == "${var.backups_prefix}/${var.namespace}/${var.ragdeployment_name}"
    )


def test_irsa_trust_names_the_operators_service_accounts() -> None:
    accounts = IAM.locals()["service_accounts"]
    assert accounts == {
        "api": "${var.namespace}:${var.ragdeployment_name}-api",
        "worker": "${var.namespace}:${var.ragdeployment_name}-worker",
        "backup": "${var.namespace}:${var.ragdeployment_name}-worker",
    }
    role = IAM.modules()["role"]
    assert role["source"].endswith("//modules/iam-role-for-service-accounts-eks")
