"""A local stand-in for a Cognito user pool's hosted UI, speaking its wire protocol.

For the chat page's sign-in test (tests/e2e/chat_ui_auth.e2e.mjs starts it):

- GET  /oauth2/authorize   response_type=code, PKCE S256 only, the registered callback URL
                           only; signs the one test user straight in (no form) and redirects
                           back with ?code=&state=
- POST /oauth2/token       grant_type=authorization_code (the code once, checking the
                           code_verifier against the challenge) or refresh_token (new access
                           and ID tokens, no new refresh token, as Cognito does); RS256 JWTs
                           with Cognito's claims plus `custom:tenant` in both tokens (in a real
                           pool the access token gets it from a pre token generation trigger)
- GET  /logout             client_id + logout_uri (a registered sign-out URL): back there
- GET  /.well-known/jwks.json
- GET  /stats              what happened, for the test's assertions

    python tests/e2e/cognito_fake.py --callback http://127.0.0.1:8000/ --access-ttl 10

prints one JSON line ({"url", "issuer", "client_id", "jwks_url"}) and serves until killed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.support.jwks import CLIENT_ID, ISSUER, KEY_ID, jwks_document, new_signing_key  # noqa: E402

USER = {
    "sub": "8b3f6c2e-0d1a-4c55-9e0f-5a7d2c1b9e11",
    "username": "ada",
    "email": "ada@example.com",
}


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
        .rstrip(b"=")
        .decode()
    )


@dataclass
class Grant:
    challenge: str
    redirect_uri: str
    scope: str
    nonce: str | None
    auth_time: int


@dataclass
class FakeCognito:
    callback: str
    logout_uris: list[str]
    tenant: str = "acme"
    access_ttl: int = 3600
    client_id: str = CLIENT_ID
    issuer: str = ISSUER
    key: Any = field(default_factory=new_signing_key)
    codes: dict[str, Grant] = field(default_factory=dict)
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    stats: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("authorize", "token_code", "token_refresh", "token_refused", "logout"), 0
        )
    )
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tokens(self, grant: Grant) -> dict[str, Any]:
        now = int(time.time())
        common = {
            "sub": USER["sub"],
            "iss": self.issuer,
            "auth_time": grant.auth_time,
            "iat": now,
            "exp": now + self.access_ttl,
            "custom:tenant": self.tenant,
            "origin_jti": str(uuid.uuid4()),
        }
        access = {
            **common,
            "token_use": "access",
            "client_id": self.client_id,
            "scope": grant.scope,
            "username": USER["username"],
            "jti": str(uuid.uuid4()),
        }
        id_claims = {
            **common,
            "token_use": "id",
            "aud": self.client_id,
            "email": USER["email"],
            "email_verified": True,
            "cognito:username": USER["username"],
            "jti": str(uuid.uuid4()),
        }
        if grant.nonce:
            id_claims["nonce"] = grant.nonce
        return {
            "access_token": self.sign(access),
            "id_token": self.sign(id_claims),
            "token_type": "Bearer",
            "expires_in": self.access_ttl,
        }

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def authorize(self, q: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        problems = [
            name
            for name, ok in (
                ("response_type", q.get("response_type") == "code"),
                ("client_id", q.get("client_id") == self.client_id),
                ("redirect_mismatch", q.get("redirect_uri") == self.callback),
                ("code_challenge_method", q.get("code_challenge_method") == "S256"),
                ("code_challenge", bool(q.get("code_challenge"))),
                ("scope", "openid" in q.get("scope", "").split()),
            )
            if not ok
        ]
        if problems:
            return 400, {}, {"error": "invalid_request", "error_description": ", ".join(problems)}
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.stats["authorize"] += 1
            self.codes[code] = Grant(
                q["code_challenge"],
                q["redirect_uri"],
                q.get("scope", ""),
                q.get("nonce"),
                int(time.time()),
            )
        back = {"code": code, **({"state": q["state"]} if "state" in q else {})}
        return 302, {"location": f"{q['redirect_uri']}?{urlencode(back)}"}, {}

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            status, body = self._token(form)
            if status != 200:
                self.stats["token_refused"] += 1
            return status, body

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("client_id") != self.client_id:
            return 400, {"error": "invalid_client"}
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)  # a code is good once
            if grant is None or form.get("redirect_uri") != grant.redirect_uri:
                return 400, {"error": "invalid_grant"}
            verifier = form.get("code_verifier", "")
            if not 43 <= len(verifier) <= 128 or s256(verifier) != grant.challenge:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "code_verifier does not match",
                }
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = grant
            self.stats["token_code"] += 1
            return 200, {**self.tokens(grant), "refresh_token": refresh}
        if grant_type == "refresh_token":
            grant = self.refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None:
                return 400, {"error": "invalid_grant", "error_description": "Invalid Refresh Token"}
            self.stats["token_refresh"] += 1
            return 200, self.tokens(grant)
        return 400, {"error": "unsupported_grant_type"}

    def logout(self, q: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        if q.get("client_id") != self.client_id or q.get("logout_uri") not in self.logout_uris:
            return (
                400,
                {},
                {"error": "invalid_request", "error_description": "client_id or logout_uri"},
            )
        with self.lock:
            self.stats["logout"] += 1
        return 302, {"location": q["logout_uri"]}, {}

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode() if body else b""
                self.send_response(status)
                for k, v in {
                    "content-type": "application/json",
                    "cache-control": "no-store",
                    "access-control-allow-origin": "*",
                    **(headers or {}),
                }.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self) -> None:  # noqa: N802 - http.server's naming
                self._send(
                    204,
                    {},
                    {
                        "access-control-allow-methods": "POST, GET",
                        "access-control-allow-headers": "content-type, authorization",
                    },
                )

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/oauth2/authorize":
                    status, headers, body = fake.authorize(q)
                    self._send(status, body, headers)
                elif url.path == "/logout":
                    status, headers, body = fake.logout(q)
                    self._send(status, body, headers)
                elif url.path == "/.well-known/jwks.json":
                    self._send(200, jwks_document(fake.key))
                elif url.path == "/stats":
                    with fake.lock:
                        self._send(200, dict(fake.stats))
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if urlsplit(self.path).path != "/oauth2/token":
                    return self._send(404, {"error": "not found"})
                if not self.headers.get("content-type", "").startswith(
                    "application/x-www-form-urlencoded"
                ):
                    return self._send(400, {"error": "invalid_request"})
                raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
                status, body = fake.token({k: v[0] for k, v in parse_qs(raw).items()})
                self._send(status, body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callback", required=True, help="the app client's callback URL")
    parser.add_argument(
        "--logout-uri", action="append", default=[], help="an allowed sign-out URL (repeatable)"
    )
    parser.add_argument("--tenant", default="acme")
    parser.add_argument(
        "--access-ttl", type=int, default=3600, help="lifetime of access and ID tokens, seconds"
    )
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeCognito(
        callback=args.callback,
        logout_uris=args.logout_uri or [args.callback],
        tenant=args.tenant,
        access_ttl=args.access_ttl,
    )
    server = fake.serve(port=args.port)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    print(
        json.dumps(
            {
                "url": url,
                "issuer": fake.issuer,
                "client_id": fake.client_id,
                "jwks_url": f"{url}/.well-known/jwks.json",
            }
        ),
        flush=True,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
