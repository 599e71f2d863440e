"""A stand-in OpenID Connect issuer for tests: a real HTTP server on a free local port serving a
discovery document and a JWKS, with RSA (RS256) and EC P-256 (ES256) keys it signs tokens with.

    with FakeIssuer() as issuer:
        settings = {"auth_mode": "oidc", "oidc_issuer": issuer.url}
        token = issuer.token(roles=["agent"])          # RS256, valid for 5 minutes

It counts the requests for its keys, so a test can tell a cached key from a fetched one, and
`rotate()` replaces its keys the way an issuer rolls them over.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from atiende_harness.cluster import free_port

AUDIENCE = "atiende"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            as_jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            as_jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**as_jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


def new_key(alg: str = "RS256", kid: str | None = None) -> SigningKey:
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"no key type for {alg}")
    return SigningKey(kid or f"{alg.lower()}-{uuid.uuid4().hex[:8]}", alg, private)


class FakeIssuer:
    def __init__(self, *, realm: str = "/realms/atiende") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{realm}"
        self.discovery_path = f"{realm}/.well-known/openid-configuration"
        self.jwks_path = f"{realm}/protocol/openid-connect/certs"  # where Keycloak keeps them
        self.keys = [new_key("RS256"), new_key("ES256")]
        self.requests: Counter[str] = Counter()
        """Requests served, by path."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def jwks_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.jwks_path}"

    @property
    def jwks_fetches(self) -> int:
        return self.requests[self.jwks_path]

    def key(self, alg: str = "RS256") -> SigningKey:
        return next(k for k in self.keys if k.alg == alg)

    def rotate(self, alg: str = "RS256") -> SigningKey:
        """A new key for `alg` replaces the old one (tokens signed with the old stop verifying
        once the services fetch the new key set)."""
        fresh = new_key(alg)
        self.keys = [k for k in self.keys if k.alg != alg] + [fresh]
        return fresh

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid claims for 5 minutes; an override of None leaves that claim out."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": "ana@example.com",
            "iat": now,
            "exp": now + 300,
            "roles": ["agent"],
            **overrides,
        }
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, alg: str = "RS256", *, key: SigningKey | None = None, **claims: Any) -> str:
        signing = key or self.key(alg)
        return jwt.encode(
            self.claims(**claims),
            signing.private,
            algorithm=signing.alg,
            headers={"kid": signing.kid},
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests[self.path] += 1
                if self.path == issuer.discovery_path:
                    body: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": issuer.jwks_url}
                elif self.path == issuer.jwks_path:
                    body = {"keys": [k.jwk() for k in issuer.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the counts say what was asked

        return Handler

    def __enter__(self) -> FakeIssuer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
