"""Signature checks against the requests captured from the official SDKs."""

from __future__ import annotations

from typing import Any

import pytest

from openworks.protocol import (
    ApiError,
    RawRequest,
    Signed,
    check_timestamp,
    decode_params,
    identify,
    parse_timestamp,
    string_to_sign,
    verify,
)

from .signer import sign_v1, v1_query
from .vectors import VECTORS, raw_from_vector, replace_header

HMAC_VECTORS = [v for v in VECTORS if "RSA" not in v["secret"]]
BY_LABEL = {v["label"]: v for v in VECTORS}


def _code(excinfo: pytest.ExceptionInfo[ApiError]) -> str:
    return excinfo.value.code


@pytest.mark.parametrize("vector", HMAC_VECTORS, ids=lambda v: v["label"])
def test_vector(vector: dict[str, Any]) -> None:
    raw = raw_from_vector(vector)
    params = decode_params(raw)
    signed = identify(raw, params)
    assert signed.scheme == vector["scheme"]
    assert signed.action in {"GetDeployment", "ListProjects", "ListFiles"}
    assert signed.version == "2020-05-18"
    assert signed.nonce and signed.timestamp
    if vector["server_string_to_sign"] is not None:
        assert string_to_sign(raw, params, signed) == vector["server_string_to_sign"]
    if vector["expected_valid"]:
        verify(raw, params, signed, vector["secret"])
    else:
        with pytest.raises(ApiError) as excinfo:
            verify(raw, params, signed, vector["secret"])
        assert _code(excinfo) == "SignatureDoesNotMatch"
        assert excinfo.value.status == 400


def test_vector_count() -> None:
    assert len(VECTORS) == 15
    assert sum(not v["expected_valid"] for v in VECTORS) == 1


def test_sts_token_is_reported() -> None:
    for label in ("tea-acs3-sts", "tea-v2-sts"):
        raw = raw_from_vector(BY_LABEL[label])
        assert identify(raw, decode_params(raw)).security_token == "my-sts-token"


def test_v1_decoded_params_keep_empty_signature_type() -> None:
    raw = raw_from_vector(BY_LABEL["legacy-GetDeploymentRequest"])
    params = decode_params(raw)
    assert params["SignatureType"] == ""
    assert params["ProjectIdentifier"] == "my proj~*/+中"


def test_rsa_is_rejected_but_string_to_sign_matches() -> None:
    vector = BY_LABEL["tea-acs3-rsa"]
    raw = raw_from_vector(vector)
    params = decode_params(raw)
    with pytest.raises(ApiError) as excinfo:
        identify(raw, params)
    assert _code(excinfo) == "InvalidSignatureMethod"
    names = raw.headers["authorization"].split("SignedHeaders=")[1].split(",")[0]
    signed = Signed(
        "ACS3",
        "ACS3-RSA-SHA256",
        "rsaKeyId",
        "00",
        "n",
        None,
        None,
        None,
        None,
        tuple(names.split(";")),
    )
    assert string_to_sign(raw, params, signed) == vector["server_string_to_sign"]


def _acs3() -> tuple[RawRequest, dict[str, Any]]:
    vector = BY_LABEL["tea-acs3-GetDeployment"]
    return raw_from_vector(vector), vector


def _mismatch(raw: RawRequest, secret: str = "testAccessKeySecret") -> ApiError:
    params = decode_params(raw)
    with pytest.raises(ApiError) as excinfo:
        verify(raw, params, identify(raw, params), secret)
    assert _code(excinfo) == "SignatureDoesNotMatch"
    return excinfo.value


def test_acs3_tampered_body_with_matching_hash() -> None:
    import hashlib

    raw, _ = _acs3()
    body = raw.body.replace(b"DeploymentId=123", b"DeploymentId=124")
    headers = {**raw.headers, "x-acs-content-sha256": hashlib.sha256(body).hexdigest()}
    _mismatch(RawRequest(raw.method, raw.path, raw.query_string, headers, body))


def test_acs3_content_sha256_mismatch() -> None:
    raw, _ = _acs3()
    body = raw.body.replace(b"DeploymentId=123", b"DeploymentId=124")
    err = _mismatch(RawRequest(raw.method, raw.path, raw.query_string, raw.headers, body))
    assert err.message.startswith("Specified signature is not matched")


def test_acs3_tampered_query() -> None:
    raw, _ = _acs3()
    _mismatch(RawRequest(raw.method, raw.path, b"Extra=1", raw.headers, raw.body))


def test_acs3_tampered_query_value() -> None:
    vector = BY_LABEL["tea-acs3-ListProjects-tags"]
    raw = raw_from_vector(vector)
    query = raw.query_string.replace(b"PageSize=10", b"PageSize=11")
    _mismatch(RawRequest(raw.method, raw.path, query, raw.headers, raw.body))


def test_acs3_query_plus_and_percent20_are_equivalent() -> None:
    vector = BY_LABEL["tea-acs3-ListProjects-tags"]
    raw = raw_from_vector(vector)
    query = raw.query_string.replace(b"v+1", b"v%201")
    same = RawRequest(raw.method, raw.path, query, raw.headers, raw.body)
    params = decode_params(same)
    verify(same, params, identify(same, params), vector["secret"])


@pytest.mark.parametrize("header", ["user-agent", "x-acs-action", "host", "x-acs-date"])
def test_acs3_tampered_header(header: str) -> None:
    raw, _ = _acs3()
    _mismatch(replace_header(raw, header, raw.headers[header] + "x"))


def test_acs3_header_whitespace_is_trimmed() -> None:
    raw, vector = _acs3()
    raw = replace_header(raw, "user-agent", "  " + raw.headers["user-agent"] + " ")
    params = decode_params(raw)
    verify(raw, params, identify(raw, params), vector["secret"])


def test_acs3_uppercase_method_matters() -> None:
    raw, _ = _acs3()
    _mismatch(RawRequest("PUT", raw.path, raw.query_string, raw.headers, raw.body))


def test_acs3_wrong_secret_message_carries_string_to_sign() -> None:
    raw, _ = _acs3()
    err = _mismatch(raw, secret="nope")
    params = decode_params(raw)
    assert err.message.split(":", 1)[1] == string_to_sign(raw, params, identify(raw, params))


def _incomplete(raw: RawRequest) -> ApiError:
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == "IncompleteSignature"
    return excinfo.value


def test_acs3_missing_signed_header() -> None:
    raw, _ = _acs3()
    _incomplete(replace_header(raw, "user-agent", None))


def _with_signed_headers(raw: RawRequest, names: str) -> RawRequest:
    auth = raw.headers["authorization"]
    head, rest = auth.split("SignedHeaders=")
    tail = rest.split(",", 1)[1]
    return replace_header(raw, "authorization", f"{head}SignedHeaders={names},{tail}")


@pytest.mark.parametrize(
    "drop",
    [
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-action",
        "x-acs-version",
        "content-type",
    ],
)
def test_acs3_required_signed_headers(drop: str) -> None:
    raw, _ = _acs3()
    names = raw.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    _incomplete(_with_signed_headers(raw, ";".join(n for n in names if n != drop)))


@pytest.mark.parametrize(
    "auth",
    [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 ",
        "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=k,Signature=ab,SignedHeaders=host,Credential=k",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host;;x,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host;host,Signature=ab",
        "ACS3-HMAC-SHA256 Credential=k,SignedHeaders=host,Signature=ab,Extra=1",
        "ACS3-HMAC-SHA256 Credential=k;SignedHeaders=host;Signature=ab",
    ],
)
def test_acs3_malformed_authorization(auth: str) -> None:
    raw, _ = _acs3()
    _incomplete(replace_header(raw, "authorization", auth))


@pytest.mark.parametrize("algorithm", ["ACS3-RSA-SHA256", "ACS3-HMAC-MD5", "ACS3-"])
def test_acs3_unsupported_algorithm(algorithm: str) -> None:
    raw, _ = _acs3()
    auth = raw.headers["authorization"].replace("ACS3-HMAC-SHA256", algorithm, 1)
    raw = replace_header(raw, "authorization", auth)
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == "InvalidSignatureMethod"


def test_no_signature_at_all() -> None:
    raw = RawRequest("POST", "/", b"Action=GetDeployment", {"host": "h"}, b"")
    assert "no signature" in _incomplete(raw).message
    raw = replace_header(raw, "authorization", "Bearer abc")
    _incomplete(raw)


def _v1() -> tuple[RawRequest, dict[str, Any]]:
    vector = BY_LABEL["legacy-GetDeploymentRequest"]
    return raw_from_vector(vector), vector


def test_v1_tampered_body() -> None:
    raw, _ = _v1()
    body = raw.body.replace(b"ProjectId=456", b"ProjectId=457")
    _mismatch(RawRequest(raw.method, raw.path, raw.query_string, raw.headers, body))


def test_v1_tampered_query_and_method() -> None:
    raw, _ = _v1()
    query = raw.query_string.replace(b"RegionId=cn-shanghai", b"RegionId=cn-beijing")
    _mismatch(RawRequest(raw.method, raw.path, query, raw.headers, raw.body))
    _mismatch(RawRequest("GET", raw.path, raw.query_string, raw.headers, raw.body))


def test_v1_mismatch_message_splits_on_colon() -> None:
    raw, _ = _v1()
    params = decode_params(raw)
    sts = string_to_sign(raw, params, identify(raw, params))
    assert ":" not in sts
    err = _mismatch(raw, secret="wrong")
    assert ":" in err.message
    assert err.message.split(":")[1] == sts


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"SignatureMethod": "HMAC-SHA256"}, "InvalidSignatureMethod"),
        ({"SignatureMethod": "hmac-sha1"}, "InvalidSignatureMethod"),
        ({"SignatureVersion": "2.0"}, "InvalidParameter"),
        ({"AccessKeyId": ""}, "MissingParameter"),
        ({"SignatureNonce": ""}, "MissingParameter"),
        ({"Timestamp": ""}, "MissingParameter"),
        ({"SignatureMethod": ""}, "MissingParameter"),
    ],
)
def test_v1_claims(change: dict[str, str], code: str) -> None:
    query = {**v1_query("ak", "n1", 0), **change}
    raw = sign_v1("secret", query)
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == code


def test_v1_empty_signature() -> None:
    params = {**v1_query("ak", "n1", 0), "Signature": ""}
    raw = RawRequest("POST", "/", b"", {}, b"")
    with pytest.raises(ApiError) as excinfo:
        identify(raw, params)
    assert _code(excinfo) == "IncompleteSignature"


def test_v1_action_never_comes_from_the_unsigned_header() -> None:
    query = v1_query("ak", "n1", 0)
    del query["Action"]
    raw = replace_header(sign_v1("secret", query), "x-acs-action", "ListFiles")
    assert identify(raw, decode_params(raw)).action is None  # the pipeline: MissingParameter


@pytest.mark.parametrize(
    ("header", "value"), [("x-acs-action", "DeleteFile"), ("x-acs-version", "2024-05-18")]
)
def test_v1_unsigned_header_cannot_swap_the_operation(header: str, value: str) -> None:
    """Issue 13 item 1: a v1-signed GetDeployment with x-acs-action: DeleteFile added."""
    raw = replace_header(sign_v1("secret", v1_query("ak", "n1", 0)), header, value)
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == "InvalidParameter.Conflict"
    assert excinfo.value.status == 400


def test_v1_header_repeating_the_signed_action_is_accepted() -> None:
    raw = replace_header(
        sign_v1("secret", v1_query("ak", "n1", 0)), "x-acs-action", "GetDeployment"
    )
    params = decode_params(raw)
    signed = identify(raw, params)
    assert signed.action == "GetDeployment"
    verify(raw, params, signed, "secret")


@pytest.mark.parametrize("key_id", ["a" * 129, "ak\u00e9", "-ak", "a b", "ak/1", "ak%"])
def test_impossible_access_key_ids_are_refused_before_lookup(key_id: str) -> None:
    raw = sign_v1("secret", {**v1_query("ak", "n1", 0), "AccessKeyId": key_id})
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == "InvalidAccessKeyId.NotFound"


def test_overlong_nonce_is_refused() -> None:
    raw = sign_v1("secret", {**v1_query("ak", "n1", 0), "SignatureNonce": "n" * 257})
    with pytest.raises(ApiError) as excinfo:
        identify(raw, decode_params(raw))
    assert _code(excinfo) == "InvalidParameter"


def test_v1_get_with_all_params_in_query() -> None:
    raw = sign_v1("s3cr3t", {**v1_query("ak", "n", 0), "Name": "a b*~/中"}, method="GET")
    params = decode_params(raw)
    verify(raw, params, identify(raw, params), "s3cr3t")


# -- timestamps ------------------------------------------------------------------------


def test_parse_timestamp() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z") == 0
    assert parse_timestamp("2026-11-27T22:29:38Z") == 1795818578
    assert parse_timestamp("2026-11-27T22:29:38.250Z") == pytest.approx(1795818578.25)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2026-11-27 22:29:38Z",
        "2026-11-27T22:29:38",
        "2026-11-27T22:29:38+08:00",
        "2026-11-27t22:29:38z",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-11-27T24:00:00Z",
        "2026-11-27T23:60:00Z",
        "0000-01-01T00:00:00Z",
        "2026-11-27T22:29:38.Z",
        "٢٠٢٦-11-27T22:29:38Z",
        "1795818578",
        "2026-11-27T22:29:38Z\n",
    ],
)
def test_parse_timestamp_rejects(value: str) -> None:
    with pytest.raises(ApiError) as excinfo:
        parse_timestamp(value)
    assert _code(excinfo) == "InvalidTimeStamp.Format"


def _signed(scheme: str, timestamp: str | None) -> Signed:
    return Signed(scheme, "HMAC-SHA1", "ak", "sig", "n", timestamp, None, None, None, ())


@pytest.mark.parametrize("offset", [-900, -899.5, 0, 899, 900])
def test_check_timestamp_inside_window(offset: float) -> None:
    check_timestamp(_signed("v1", "2026-11-27T22:29:38Z"), 1795818578 + offset)


@pytest.mark.parametrize("offset", [-901, -900.5, 900.001, 901, 86400])
def test_check_timestamp_outside_window(offset: float) -> None:
    with pytest.raises(ApiError) as excinfo:
        check_timestamp(_signed("ACS3", "2026-11-27T22:29:38Z"), 1795818578 + offset)
    assert _code(excinfo) == "InvalidTimeStamp.Expired"


def test_check_timestamp_custom_window() -> None:
    check_timestamp(_signed("v1", "2026-11-27T22:29:38Z"), 1795818578 + 60, window_seconds=60)
    with pytest.raises(ApiError):
        check_timestamp(_signed("v1", "2026-11-27T22:29:38Z"), 1795818578 + 61, window_seconds=60)


def test_check_timestamp_missing_or_bad() -> None:
    with pytest.raises(ApiError) as excinfo:
        check_timestamp(_signed("ACS3", None), 0)
    assert _code(excinfo) == "IncompleteSignature"
    with pytest.raises(ApiError) as excinfo:
        check_timestamp(_signed("v1", None), 0)
    assert _code(excinfo) == "MissingParameter"
    with pytest.raises(ApiError) as excinfo:
        check_timestamp(_signed("v1", "yesterday"), 0)
    assert _code(excinfo) == "InvalidTimeStamp.Format"
