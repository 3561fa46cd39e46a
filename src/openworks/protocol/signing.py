"""Signature checks for the two Alibaba Cloud RPC signature schemes.

Which scheme a request uses is decided by :func:`identify`::

    Authorization: ACS3-...  ──> ACS3   (Tea SDK default; ACS3-HMAC-SHA256 / ACS3-HMAC-SM3)
    Signature=... parameter  ──> v1     (Tea ``signature_algorithm='v2'``, legacy SDK; HMAC-SHA1)
    neither                  ──> IncompleteSignature

``ACS3-RSA-SHA256`` and unknown algorithms are rejected with ``InvalidSignatureMethod``
(there is no public-key store); ``ACS3-HMAC-SM3`` needs ``hashlib`` to offer ``sm3``.

ACS3 ``SignedHeaders`` must contain ``host``, ``x-acs-date``, ``x-acs-signature-nonce`` and
``x-acs-content-sha256`` (target, freshness, replay protection, body binding), and every
one of ``x-acs-action``, ``x-acs-version``, ``x-acs-security-token`` and ``content-type``
that the request carries (they choose the operation, the caller or how the body is
read). The official SDK signs all of them.

Which operation runs is decided here, from what the signature covers, never from an
unsigned field::

    ACS3   x-acs-action / x-acs-version headers, both required and signed
    v1     Action / Version parameters (the signed query or form)
    both present and different (header vs parameter)  ──>  400 InvalidParameter.Conflict

Impossible claims are refused before any lookup or cache: an AccessKey id must match
``[A-Za-z0-9][A-Za-z0-9._-]{0,127}`` (else ``InvalidAccessKeyId.NotFound``), a nonce is
at most 256 characters, a ``SignedHeaders`` value at most 1,024.

String to sign, ACS3 (``H`` = SHA-256 or SM3, hex lowercase)::

    ALG \\n H( METHOD \\n PATH \\n sorted query, values RFC 3986 re-encoded \\n
              name:trimmed value\\n per signed header \\n signed;names \\n H(raw body) )

String to sign, v1::

    METHOD & %2F & enc( sorted enc(name)=enc(value) over every parameter but Signature )

Signatures are compared with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from .encoding import parse_form, percent_encode
from .errors import (
    access_key_not_found,
    action_conflict,
    incomplete_signature,
    invalid_parameter,
    missing_parameter,
    signature_method,
    signature_mismatch,
    timestamp_expired,
    timestamp_format,
)
from .request import RawRequest

__all__ = [
    "ACCESS_KEY_ID",
    "ACS3_ALGORITHMS",
    "ACS3_REQUIRED_HEADERS",
    "Signed",
    "check_timestamp",
    "identify",
    "parse_timestamp",
    "string_to_sign",
    "verify",
]

_SM3 = "sm3" in hashlib.algorithms_available
ACS3_ALGORITHMS: frozenset[str] = frozenset(
    {"ACS3-HMAC-SHA256", *(("ACS3-HMAC-SM3",) if _SM3 else ())}
)
ACS3_REQUIRED_HEADERS: frozenset[str] = frozenset(
    {"host", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}
)
_SIGNED_IF_PRESENT = ("x-acs-action", "x-acs-version", "x-acs-security-token", "content-type")
ACCESS_KEY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", re.ASCII)
"""The shape of every AccessKey id openworks issues or accepts (LTAI…, STS.…, configured)."""
_MAX_NONCE = 256
_MAX_SIGNED_HEADERS = 1_024
_HEADER_NAME = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
_TIMESTAMP = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?Z"
)


@dataclass(frozen=True, slots=True)
class Signed:
    """What a request claims about its signature, before any check."""

    scheme: str
    algorithm: str
    access_key_id: str
    signature: str
    nonce: str | None
    timestamp: str | None
    security_token: str | None
    action: str | None
    version: str | None
    signed_headers: tuple[str, ...]


def _parse_authorization(value: str) -> tuple[str, dict[str, str]]:
    algorithm, _, rest = value.partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep or key not in ("Credential", "SignedHeaders", "Signature") or key in fields:
            raise incomplete_signature("the Authorization header is malformed")
        if not item:
            raise incomplete_signature(f"{key} in the Authorization header is empty")
        fields[key] = item
    missing = {"Credential", "SignedHeaders", "Signature"} - fields.keys()
    if missing:
        raise incomplete_signature(f"{min(missing)} is missing from the Authorization header")
    return algorithm, fields


@functools.lru_cache(maxsize=256)
def _signed_header_names(value: str) -> tuple[str, ...] | None:
    """The sorted names of a SignedHeaders value, or None if malformed (clients send the
    same value on every request, hence the cache)."""
    if len(value) > _MAX_SIGNED_HEADERS:
        return None
    names = value.lower().split(";")
    if any(_HEADER_NAME.fullmatch(name) is None for name in names):
        return None
    if len(set(names)) != len(names):
        return None
    return tuple(sorted(names))


def _identify_acs3(raw: RawRequest, params: Mapping[str, str], header: str) -> Signed:
    algorithm, fields = _parse_authorization(header)
    if algorithm not in ACS3_ALGORITHMS:
        raise signature_method(algorithm)
    names = _signed_header_names(fields["SignedHeaders"])
    if names is None:
        raise incomplete_signature("SignedHeaders is malformed")
    headers = raw.headers
    unsigned = [h for h in ACS3_REQUIRED_HEADERS if h not in names]
    unsigned += [h for h in _SIGNED_IF_PRESENT if h in headers and h not in names]
    if unsigned:
        raise incomplete_signature(f"header {min(unsigned)} must be signed")
    absent = [name for name in names if name not in headers]
    if absent:
        raise incomplete_signature(f"signed header {absent[0]} is not in the request")
    for name in ("x-acs-action", "x-acs-version"):
        if name not in names:
            raise incomplete_signature(f"header {name} must be signed")
    action = _agree("Action", headers["x-acs-action"], params.get("Action"))
    version = _agree("Version", headers["x-acs-version"], params.get("Version"))
    return _claims(
        Signed(
            scheme="ACS3",
            algorithm=algorithm,
            access_key_id=fields["Credential"],
            signature=fields["Signature"],
            nonce=headers.get("x-acs-signature-nonce"),
            timestamp=headers.get("x-acs-date"),
            security_token=headers.get("x-acs-security-token", params.get("SecurityToken")),
            action=action,
            version=version,
            signed_headers=names,
        )
    )


def _agree(name: str, header: str, parameter: str | None) -> str:
    """The signed header's ``Action``/``Version``; a parameter may only repeat it."""
    if parameter is not None and parameter != header:
        raise action_conflict(name, header, parameter)
    return header


def _claims(signed: Signed) -> Signed:
    """Refuse claims no genuine request makes, before any lookup or cache sees them."""
    if ACCESS_KEY_ID.fullmatch(signed.access_key_id) is None:
        raise access_key_not_found(signed.access_key_id)
    if signed.nonce is not None and len(signed.nonce) > _MAX_NONCE:
        raise invalid_parameter("SignatureNonce", f"must be at most {_MAX_NONCE} characters")
    return signed


def _identify_v1(raw: RawRequest, params: Mapping[str, str]) -> Signed:
    if not params.get("Signature"):
        raise incomplete_signature("the Signature parameter is empty")
    for name in ("AccessKeyId", "SignatureNonce", "Timestamp", "SignatureMethod"):
        if not params.get(name):
            raise missing_parameter(name)
    if params["SignatureMethod"] != "HMAC-SHA1":
        raise signature_method(params["SignatureMethod"])
    if params.get("SignatureVersion", "1.0") != "1.0":
        raise invalid_parameter("SignatureVersion", "must be 1.0")
    action, version = params.get("Action"), params.get("Version")
    headers = raw.headers
    for name, value in (("Action", action), ("Version", version)):
        header = headers.get(f"x-acs-{name.lower()}")
        if header is not None and value is not None and header != value:
            raise action_conflict(name, header, value)
    return _claims(
        Signed(
            scheme="v1",
            algorithm="HMAC-SHA1",
            access_key_id=params["AccessKeyId"],
            signature=params["Signature"],
            nonce=params["SignatureNonce"],
            timestamp=params["Timestamp"],
            security_token=params.get("SecurityToken"),
            action=action,
            version=version,
            signed_headers=(),
        )
    )


def identify(raw: RawRequest, params: Mapping[str, str]) -> Signed:
    """Find the signature scheme and the claims of a request (no cryptography yet)."""
    header = raw.headers.get("authorization")
    if header is not None and header.startswith("ACS3-"):
        return _identify_acs3(raw, params, header)
    if "Signature" in params:
        return _identify_v1(raw, params)
    raise incomplete_signature(
        "the request has no signature (no ACS3 Authorization header, no Signature parameter)"
    )


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _hash_name(algorithm: str) -> str:
    return "sm3" if algorithm.endswith("-SM3") else "sha256"


def _hexdigest(algorithm: str, data: bytes) -> str:
    name = _hash_name(algorithm)
    if name == "sha256":  # the common case, without hashlib.new's lookup
        return hashlib.sha256(data).hexdigest()
    return hashlib.new(name, data).hexdigest()


def _canonical_acs3(raw: RawRequest, signed: Signed, payload: str) -> str:
    if raw.query_string:
        pairs = sorted(parse_form(raw.query_string))
        query = "&".join(f"{name}={percent_encode(value)}" for name, value in pairs)
    else:
        query = ""
    headers = "".join(f"{name}:{raw.headers[name].strip()}\n" for name in signed.signed_headers)
    parts = (raw.method, raw.path, query, headers, ";".join(signed.signed_headers), payload)
    return "\n".join(parts)


def string_to_sign(
    raw: RawRequest, params: Mapping[str, str], signed: Signed, body_hash: str | None = None
) -> str:
    """The string the client must have signed, rebuilt from what was received
    (``body_hash``: the hex digest of the body, when the caller has it already)."""
    if signed.scheme == "ACS3":
        payload = body_hash or _hexdigest(signed.algorithm, raw.body)
        canonical = _canonical_acs3(raw, signed, payload)
        return f"{signed.algorithm}\n{_hexdigest(signed.algorithm, _utf8(canonical))}"
    pairs = sorted((name, value) for name, value in params.items() if name != "Signature")
    query = "&".join(f"{percent_encode(name)}={percent_encode(value)}" for name, value in pairs)
    return f"{raw.method}&%2F&{percent_encode(query)}"


def verify(raw: RawRequest, params: Mapping[str, str], signed: Signed, secret: str) -> None:
    """Raise ``SignatureDoesNotMatch`` unless the request was signed with ``secret``."""
    key = _utf8(secret)
    if signed.scheme == "ACS3":
        body_hash = _hexdigest(signed.algorithm, raw.body)
        text = string_to_sign(raw, params, signed, body_hash)
        claimed_hash = _utf8(raw.headers.get("x-acs-content-sha256", "").strip().lower())
        if not hmac.compare_digest(claimed_hash, _utf8(body_hash)):
            raise signature_mismatch(text)
        hash_name = _hash_name(signed.algorithm)
        expected = _utf8(hmac.new(key, _utf8(text), hash_name).hexdigest())
        given = _utf8(signed.signature.lower())
    else:
        text = string_to_sign(raw, params, signed)
        mac = hmac.new(key + b"&", _utf8(text), hashlib.sha1).digest()
        expected = base64.b64encode(mac)
        given = _utf8(signed.signature)
    if not hmac.compare_digest(expected, given):
        raise signature_mismatch(text)


@functools.lru_cache(maxsize=128)
def parse_timestamp(value: str) -> float:
    """``YYYY-MM-DDThh:mm:ss[.fraction]Z`` (UTC) to epoch seconds."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise timestamp_format(value)
    year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        raise timestamp_format(value) from None
    return moment.timestamp() + float(match.group(7) or 0)


def check_timestamp(signed: Signed, now: float, window_seconds: int = 900) -> None:
    """Reject a request whose timestamp is more than ``window_seconds`` away from ``now``."""
    if not signed.timestamp:
        if signed.scheme == "ACS3":
            raise incomplete_signature("the x-acs-date header is missing")
        raise missing_parameter("Timestamp")
    if abs(parse_timestamp(signed.timestamp) - now) > window_seconds:
        raise timestamp_expired(signed.timestamp)
