"""Certificates and keys for one cluster: a CA, the API server's serving cert, client certs and
ServiceAccount keys."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# First address of the service range: the `kubernetes` Service that in-cluster clients dial.
SERVICE_CIDR = "10.96.0.0/12"
KUBERNETES_SERVICE_IP = "10.96.0.1"
_VALIDITY = datetime.timedelta(days=365)
_API_SERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class CertPair:
    cert: Path
    key: Path


@dataclass(frozen=True)
class ClusterPki:
    ca: CertPair
    apiserver: CertPair
    admin: CertPair
    controller_manager: CertPair
    scheduler: CertPair
    service_account_key: Path
    service_account_pub: Path


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _write_key(key: PrivateKey, path: Path) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    *,
    subject: x509.Name,
    key: PrivateKey,
    issuer: x509.Name,
    issuer_key: PrivateKey,
    is_ca: bool = False,
    usages: list[x509.ObjectIdentifier] | None = None,
    dns: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
) -> x509.Certificate:
    # Backdated a little so a clock skew between processes cannot make the certs "not yet valid".
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,  # ECDSA keys sign; they never encipher
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if dns or ips:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def locate(directory: Path) -> ClusterPki:
    """Where `generate` puts each file; lets readers find an existing PKI."""

    def pair(stem: str) -> CertPair:
        return CertPair(directory / f"{stem}.crt", directory / f"{stem}.key")

    return ClusterPki(
        ca=pair("ca"),
        apiserver=pair("apiserver"),
        admin=pair("admin"),
        controller_manager=pair("controller-manager"),
        scheduler=pair("scheduler"),
        service_account_key=directory / "sa.key",
        service_account_pub=directory / "sa.pub",
    )


def generate(directory: Path, extra_ips: tuple[str, ...] = ()) -> ClusterPki:
    """Write a fresh PKI under `directory` (created 0700) and return the file locations.

    `extra_ips` are more addresses the API server answers on (the real node's address, which
    the `kubernetes` Service's endpoint points at).
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    paths = locate(directory)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("ragops-devcluster-ca")
    _write_cert(
        _issue(subject=ca_name, key=ca_key, issuer=ca_name, issuer_key=ca_key, is_ca=True),
        paths.ca.cert,
    )
    _write_key(ca_key, paths.ca.key)

    def leaf(
        pair: CertPair,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        dns: tuple[str, ...] = (),
        ips: tuple[str, ...] = (),
    ) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        _write_cert(
            _issue(
                subject=subject,
                key=key,
                issuer=ca_name,
                issuer_key=ca_key,
                usages=[usage],
                dns=dns,
                ips=ips,
            ),
            pair.cert,
        )
        _write_key(key, pair.key)

    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    leaf(
        paths.apiserver,
        _name("kube-apiserver"),
        server,
        dns=_API_SERVER_NAMES,
        ips=("127.0.0.1", KUBERNETES_SERVICE_IP, *extra_ips),
    )
    # system:masters is bound to cluster-admin by RBAC's bootstrap policy.
    leaf(paths.admin, _name("ragops-admin", "system:masters"), client)
    # These user names are the subjects of the bootstrap ClusterRoleBindings for each component.
    leaf(paths.controller_manager, _name("system:kube-controller-manager"), client)
    leaf(paths.scheduler, _name("system:kube-scheduler"), client)

    # RSA because every Kubernetes version and JWT consumer accepts RS256 service-account tokens.
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(sa_key, paths.service_account_key)
    paths.service_account_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return paths
