"""A local JWKS endpoint with test keys, and tokens signed by them (stand-in for a Cognito user
pool)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
CLIENT_ID = "ragops-chat"


KEY_ID = "test-key"


def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_document(private_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The key set a user pool publishes at /.well-known/jwks.json, for this key."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return {"keys": [{**jwk, "kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


class JwksServer:
    def __init__(self) -> None:
        self.private_key = new_signing_key()
        self.stranger_key = new_signing_key()
        body = json.dumps(jwks_document(self.private_key)).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def token(
        self,
        tenant: str | None,
        *,
        issuer: str = ISSUER,
        client_id: str = CLIENT_ID,
        expires_in: int = 300,
        signer: Any = None,
        subject: str | None = None,
        algorithm: str = "RS256",
    ) -> str:
        claims: dict[str, Any] = {
            "iss": issuer,
            "client_id": client_id,
            "exp": int(time.time()) + expires_in,
            "sub": subject or f"user-of-{tenant}",
            "token_use": "access",
        }
        if tenant is not None:
            claims["custom:tenant"] = tenant
        return jwt.encode(
            claims, signer or self.private_key, algorithm=algorithm, headers={"kid": KEY_ID}
        )

    def stop(self) -> None:
        self._server.shutdown()
