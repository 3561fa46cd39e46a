"""The authentication sequence: identify → timestamp → key → signature → nonce."""

from __future__ import annotations

import hashlib

import pytest

from openworks.protocol import (
    ApiError,
    Credential,
    MemoryNonceCache,
    RawRequest,
    authenticate,
    decode_params,
)

from .signer import sign_acs3, sign_v1, utc, v1_query
from .vectors import replace_header

NOW = 1_800_000_000.0
KEYS = {
    "ak": Credential("ak", "secret", True, principal="alice"),
    "off": Credential("off", "secret", False, principal="bob"),
}


class Lookup:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, access_key_id: str) -> Credential | None:
        self.calls.append(access_key_id)
        return KEYS.get(access_key_id)


Outcome = tuple[object, str, str | None]


def _auth(raw: RawRequest, nonces: MemoryNonceCache | None = None, now: float = NOW) -> Outcome:
    cache = MemoryNonceCache() if nonces is None else nonces
    credential, signed = authenticate(raw, decode_params(raw), Lookup(), cache, now)
    return credential.principal, signed.scheme, signed.action


def _code(raw: RawRequest, nonces: MemoryNonceCache | None = None, now: float = NOW) -> str:
    with pytest.raises(ApiError) as excinfo:
        _auth(raw, nonces, now)
    return excinfo.value.code


def test_acs3_ok_and_replay() -> None:
    nonces = MemoryNonceCache()
    raw = sign_acs3("ak", "secret", "n1", NOW, body={"DeploymentId": "1", "Name": "a b+中"})
    assert _auth(raw, nonces) == ("alice", "ACS3", "GetDeployment")
    assert _code(raw, nonces) == "SignatureNonceUsed"


def test_acs3_sm3() -> None:
    raw = sign_acs3("ak", "secret", "n1", NOW, body={"A": "1"}, algorithm="ACS3-HMAC-SM3")
    assert _auth(raw)[1] == "ACS3"


def test_acs3_needs_the_signed_action_header() -> None:
    """ACS3 names its operation in the signed x-acs-action header, as the SDKs send it."""
    raw = sign_acs3("ak", "secret", "n1", NOW, query={"Action": "ListFiles"}, action=None)
    assert _code(raw) == "IncompleteSignature"


def test_acs3_action_parameter_may_repeat_the_header() -> None:
    raw = sign_acs3("ak", "secret", "n1", NOW, query={"Action": "GetDeployment"})
    assert _auth(raw) == ("alice", "ACS3", "GetDeployment")


def test_acs3_action_parameter_that_disagrees_is_refused() -> None:
    raw = sign_acs3("ak", "secret", "n1", NOW, query={"Action": "DeleteFile"})
    assert _code(raw) == "InvalidParameter.Conflict"


def test_v1_ok_and_replay() -> None:
    nonces = MemoryNonceCache()
    raw = sign_v1("secret", v1_query("ak", "n1", NOW), body={"ProjectId": "7"})
    assert _auth(raw, nonces) == ("alice", "v1", "GetDeployment")
    assert _code(raw, nonces) == "SignatureNonceUsed"


def test_same_nonce_other_key_is_fine() -> None:
    nonces = MemoryNonceCache()
    assert nonces.check_and_add("other", "n1", NOW)
    _auth(sign_v1("secret", v1_query("ak", "n1", NOW)), nonces)


def test_unknown_and_inactive_keys() -> None:
    assert _code(sign_v1("secret", v1_query("nobody", "n1", NOW))) == "InvalidAccessKeyId.NotFound"
    assert _code(sign_v1("secret", v1_query("off", "n1", NOW))) == "InvalidAccessKeyId.Inactive"


def test_expired_timestamp_is_checked_before_lookup() -> None:
    lookup = Lookup()
    raw = sign_v1("secret", v1_query("ak", "n1", NOW - 1000))
    with pytest.raises(ApiError) as excinfo:
        authenticate(raw, decode_params(raw), lookup, MemoryNonceCache(), NOW)
    assert excinfo.value.code == "InvalidTimeStamp.Expired"
    assert lookup.calls == []


def test_bad_signature_does_not_burn_the_nonce() -> None:
    nonces = MemoryNonceCache()
    good = sign_acs3("ak", "secret", "n1", NOW)
    forged = sign_acs3("ak", "guess", "n1", NOW)
    assert _code(forged, nonces) == "SignatureDoesNotMatch"
    assert _auth(good, nonces)[0] == "alice"


def test_acs3_date_is_signed() -> None:
    raw = sign_acs3("ak", "secret", "n1", NOW)
    moved = replace_header(raw, "x-acs-date", utc(NOW + 5))
    assert _code(moved) == "SignatureDoesNotMatch"


def test_acs3_body_hash_checked() -> None:
    raw = sign_acs3("ak", "secret", "n1", NOW, body={"A": "1"})
    body = b"A=2"
    assert hashlib.sha256(body).hexdigest() != raw.headers["x-acs-content-sha256"]
    tampered = RawRequest(raw.method, raw.path, raw.query_string, raw.headers, body)
    assert _code(tampered) == "SignatureDoesNotMatch"


def test_valid_vectors_authenticate_at_their_own_time() -> None:
    from .vectors import VECTORS, raw_from_vector

    secrets = {"testAccessKeyId": "testAccessKeySecret", "stsAccessKeyId": "stsAccessKeySecret"}

    def lookup(access_key_id: str) -> Credential | None:
        secret = secrets.get(access_key_id)
        return Credential(access_key_id, secret, True, None) if secret else None

    nonces = MemoryNonceCache()
    checked = 0
    for vector in VECTORS:
        if not vector["expected_valid"] or "RSA" in vector["secret"]:
            continue
        raw = raw_from_vector(vector)
        credential, signed = authenticate(raw, decode_params(raw), lookup, nonces, 1795818580.0)
        assert credential.access_key_id == signed.access_key_id
        checked += 1
    assert checked == 13


def test_public_interface() -> None:
    import openworks.protocol as protocol

    for name in protocol.__all__:
        assert hasattr(protocol, name), name
    assert len(set(protocol.__all__)) == len(protocol.__all__)
