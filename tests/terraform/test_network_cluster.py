"""Network and cluster as the seed describes them."""

from __future__ import annotations

import ipaddress

from tests.terraform import hcl

NETWORK = hcl.load(hcl.MODULES / "network")
CLUSTER = hcl.load(hcl.MODULES / "cluster")
SUBNETS = {
    "public_subnets": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"],
    "private_app_subnets": ["10.0.32.0/19", "10.0.64.0/19", "10.0.96.0/19"],
    "private_data_subnets": ["10.0.21.0/24", "10.0.22.0/24", "10.0.23.0/24"],
}
NODE_GROUPS = {
    "api": (["m5.xlarge"], "ON_DEMAND", 3, 10),
    "workers": (["c5.2xlarge"], "SPOT", 2, 8),
    "qdrant": (["r5.xlarge"], "ON_DEMAND", 3, 6),
}


def test_exactly_three_azs_are_accepted() -> None:
    validation = NETWORK.variables()["azs"]["validation"][0]
    assert hcl.expr(validation["condition"]) == "length(var.azs) == 3"
    for path in hcl.env_dirs():
        azs = hcl.load(path).modules()["platform"]["azs"]
        assert isinstance(azs, list) and len(azs) == 3 and len(set(azs)) == 3


def test_subnets_are_numbered_one_per_tier_and_az_without_overlap() -> None:
    variables = NETWORK.variables()
    assert variables["cidr"]["default"] == "10.0.0.0/16"
    vpc = ipaddress.ip_network("10.0.0.0/16")
    networks = []
    for name, expected in SUBNETS.items():
        assert variables[name]["default"] == expected, name
        networks += [ipaddress.ip_network(cidr) for cidr in expected]
    assert all(net.subnet_of(vpc) for net in networks)
    assert not [(a, b) for i, a in enumerate(networks) for b in networks[i + 1 :] if a.overlaps(b)]


def test_vpc_has_a_nat_gateway_per_az_and_data_subnets_without_internet() -> None:
    vpc = NETWORK.modules()["vpc"]
    assert (
        vpc["enable_nat_gateway"],
        vpc["single_nat_gateway"],
        vpc["one_nat_gateway_per_az"],
    ) == (True, False, True)
    assert hcl.expr(vpc["intra_subnets"]) == "var.private_data_subnets"
    assert vpc["intra_subnet_suffix"] == "private-data"
    assert vpc["enable_flow_log"] is True


def test_vpc_endpoints() -> None:
    endpoints = NETWORK.modules()["endpoints"]
    services = set(NETWORK.locals()["interface_endpoints"].values())
    assert services == {"ecr.api", "ecr.dkr", "logs", "sqs", "sts", "secretsmanager"}
    gateway = str(endpoints["endpoints"])
    assert 'service = "s3"' in gateway and 'service_type = "Gateway"' in gateway


def test_node_groups_sizes_and_instance_types_are_the_seeds() -> None:
    groups = CLUSTER.variables()["node_groups"]["default"]
    actual = {
        name: (spec["instance_types"], spec["capacity_type"], spec["min_size"], spec["max_size"])
        for name, spec in groups.items()
    }
    assert actual == NODE_GROUPS
    assert all(
        spec["min_size"] <= spec["desired_size"] <= spec["max_size"] for spec in groups.values()
    )
    # Production takes the defaults; only staging shrinks them.
    assert "node_groups" not in hcl.load(hcl.ENVS / "prod").modules()["platform"]


def test_qdrant_nodes_are_labelled_and_tainted() -> None:
    qdrant = CLUSTER.variables()["node_groups"]["default"]["qdrant"]
    assert qdrant["labels"] == {"ragops.dev/pool": "qdrant"}
    assert list(qdrant["taints"].values()) == [
        {"key": "ragops.dev/qdrant", "value": "true", "effect": "NO_SCHEDULE"}
    ]
    others = [
        spec["taints"]
        for name, spec in CLUSTER.variables()["node_groups"]["default"].items()
        if name != "qdrant"
    ]
    assert others == [{}, {}]


def test_addons_and_the_default_gp3_storage_class() -> None:
    eks = CLUSTER.modules()["eks"]
    assert set(eks["cluster_addons"]) == {"vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"}
    storage_class = CLUSTER.resources("kubernetes_storage_class_v1")[
        ("kubernetes_storage_class_v1", "gp3")
    ]
    assert storage_class["metadata"][0]["name"] == "gp3"
    assert storage_class["metadata"][0]["annotations"] == {
        "storageclass.kubernetes.io/is-default-class": "true"
    }
    assert storage_class["parameters"] == {"type": "gp3", "encrypted": "true"}
    assert storage_class["storage_provisioner"] == "ebs.csi.aws.com"


def test_cluster_controllers_have_irsa_roles() -> None:
    modules = CLUSTER.modules()
    expected = {
        "load_balancer_controller_irsa": (
            "attach_load_balancer_controller_policy",
            "kube-system:aws-load-balancer-controller",
        ),
        "cluster_autoscaler_irsa": (
            "attach_cluster_autoscaler_policy",
            "kube-system:cluster-autoscaler",
        ),
        "ebs_csi_irsa": ("attach_ebs_csi_policy", "kube-system:ebs-csi-controller-sa"),
    }
    for name, (flag, service_account) in expected.items():
        module = modules[name]
        assert module["source"].endswith("//modules/iam-role-for-service-accounts-eks")
        assert module[flag] is True
        assert module["oidc_providers"]["main"]["namespace_service_accounts"] == [service_account]


def test_secrets_are_envelope_encrypted_and_nodes_require_imdsv2() -> None:
    eks = CLUSTER.modules()["eks"]
    assert eks["create_kms_key"] is True and eks["cluster_encryption_config"] == {
        "resources": ["secrets"]
    }
    assert eks["eks_managed_node_group_defaults"]["metadata_options"]["http_tokens"] == "required"
