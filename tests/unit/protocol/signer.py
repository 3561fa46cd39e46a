"""A small client-side signer for tests, written from wire-protocol.md (a.4, b.3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote, urlencode

from openworks.protocol import RawRequest

HOST = "127.0.0.1:8080"


def utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _enc(text: str) -> str:
    return quote(text, safe="~")


def sign_v1(
    secret: str,
    query: dict[str, str],
    body: dict[str, str] | None = None,
    method: str = "POST",
) -> RawRequest:
    everything = {**query, **(body or {})}
    canonical = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in sorted(everything.items()))
    sts = f"{method}&%2F&{_enc(canonical)}"
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    signed_query = {**query, "Signature": base64.b64encode(mac).decode()}
    headers = {"host": HOST}
    raw_body = b""
    if body:
        raw_body = urlencode(sorted(body.items())).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    return RawRequest(method, "/", urlencode(signed_query).encode(), headers, raw_body)


def v1_query(
    key_id: str, nonce: str, epoch: float, action: str = "GetDeployment"
) -> dict[str, str]:
    return {
        "Action": action,
        "Format": "JSON",
        "Version": "2020-05-18",
        "Timestamp": utc(epoch),
        "SignatureNonce": nonce,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureType": "",
        "SignatureVersion": "1.0",
        "AccessKeyId": key_id,
    }


def sign_acs3(
    key_id: str,
    secret: str,
    nonce: str,
    epoch: float,
    *,
    query: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
    action: str | None = "GetDeployment",
    algorithm: str = "ACS3-HMAC-SHA256",
) -> RawRequest:
    hash_name = "sm3" if algorithm.endswith("SM3") else "sha256"
    raw_body = urlencode(sorted(body.items())).encode() if body else b""
    headers = {
        "host": HOST,
        "x-acs-version": "2020-05-18",
        "x-acs-date": utc(epoch),
        "x-acs-signature-nonce": nonce,
        "accept": "application/json",
        "x-acs-content-sha256": hashlib.new(hash_name, raw_body).hexdigest(),
    }
    if action is not None:
        headers["x-acs-action"] = action
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    names = sorted(headers)
    canonical_query = "&".join(f"{k}={_enc(v)}" for k, v in sorted((query or {}).items()))
    canonical = "\n".join(
        [
            "POST",
            "/",
            canonical_query,
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names),
            headers["x-acs-content-sha256"],
        ]
    )
    sts = f"{algorithm}\n{hashlib.new(hash_name, canonical.encode()).hexdigest()}"
    signature = hmac.new(secret.encode(), sts.encode(), hash_name).hexdigest()
    headers["authorization"] = (
        f"{algorithm} Credential={key_id},SignedHeaders={';'.join(names)},Signature={signature}"
    )
    return RawRequest("POST", "/", urlencode(query or {}).encode(), headers, raw_body)
