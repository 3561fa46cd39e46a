"""Property tests: whatever arrives, the protocol layer fails only with a 4xx ApiError."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openworks.protocol import (
    ApiError,
    Credential,
    MemoryNonceCache,
    ParamSpec,
    RawRequest,
    authenticate,
    coerce_params,
    decode_params,
    identify,
    string_to_sign,
    verify,
)
from openworks.protocol.params import PARAM_TYPES

from .vectors import VECTORS, raw_from_vector

FUZZ = settings(max_examples=300, deadline=None)
NOW = 1795818578.0  # the vectors' x-acs-date / Timestamp
SECRET = "testAccessKeySecret"
KEY = Credential("testAccessKeyId", SECRET, True, principal=None)

anything = st.text(st.characters(exclude_categories=()), max_size=40)
formish = st.text(alphabet="AaZz09=&%+.-_~*/:;,!()'@$?é\u4e2d \x00", max_size=60)
wire = st.one_of(st.binary(max_size=80), formish.map(lambda s: s.encode("utf-8", "surrogatepass")))
names = st.sampled_from(
    [
        "Action",
        "Version",
        "Signature",
        "AccessKeyId",
        "SignatureMethod",
        "SignatureNonce",
        "Timestamp",
        "SignatureVersion",
        "SecurityToken",
        "Format",
        "N",
        "B",
        "L",
        "S",
        "Tags",
    ]
)
values = st.one_of(
    anything,
    st.sampled_from(
        [
            "",
            "1",
            "-9223372036854775809",
            "True",
            "false",
            "1e400",
            "[]",
            "{}",
            '[{"Key":"k","Value":1}]',
            '[{"Key":"k"}]',
            "[" * 50,
            "HMAC-SHA1",
            "1.0",
            "2026-11-27T22:29:38Z",
            "testAccessKeyId",
            "0" * 30,
        ]
    ),
)
header_names = st.sampled_from(
    [
        "authorization",
        "content-type",
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-security-token",
        "user-agent",
    ]
)
header_values = st.one_of(
    anything,
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "2026-11-27T22:29:38Z",
            "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;"
            "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce,Signature=00",
            "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=1",
            "ACS3-",
        ]
    ),
)
headers = st.dictionaries(header_names, header_values, max_size=8)
raws = st.builds(
    RawRequest,
    method=st.sampled_from(["POST", "GET", "post", ""]),
    path=st.sampled_from(["/", "", "/x"]),
    query_string=wire,
    headers=headers,
    body=wire,
)
params_maps = st.dictionaries(names, values, max_size=12)
item_maps = st.dictionaries(
    st.sampled_from(["Key", "Value", "N"]), st.sampled_from(["str", "int", "bool", "float", "any"])
)


@st.composite
def spec_lists(draw: st.DrawFn) -> list[ParamSpec]:
    specs = []
    for name in draw(st.lists(names, max_size=6, unique=True)):
        kind = draw(st.sampled_from(sorted(PARAM_TYPES)))
        specs.append(
            ParamSpec(
                name,
                kind,
                required=draw(st.booleans()),
                one_of=draw(st.none() | st.tuples(names, names)),
                items=draw(item_maps) if kind == "list" and draw(st.booleans()) else None,
                max_length=draw(st.integers(0, 100)),
            )
        )
    return specs


def _only_client_errors(action: Callable[[], Any]) -> None:
    try:
        action()
    except ApiError as err:
        assert 400 <= err.status < 500, err
        assert err.code and isinstance(err.message, str)


def _lookup(access_key_id: str) -> Credential | None:
    return KEY if access_key_id == KEY.access_key_id else None


def _pipeline(raw: RawRequest, specs: list[ParamSpec]) -> None:
    params = decode_params(raw)
    coerce_params(specs, params)
    signed = identify(raw, params)
    string_to_sign(raw, params, signed)
    verify(raw, params, signed, SECRET)
    authenticate(raw, params, _lookup, MemoryNonceCache(), NOW)


@FUZZ
@given(raws, spec_lists())
def test_arbitrary_requests(raw: RawRequest, specs: list[ParamSpec]) -> None:
    _only_client_errors(lambda: _pipeline(raw, specs))


@FUZZ
@given(params_maps, spec_lists())
def test_arbitrary_param_maps(params: dict[str, str], specs: list[ParamSpec]) -> None:
    _only_client_errors(lambda: coerce_params(specs, params))
    raw = RawRequest("POST", "/", b"", {}, b"")

    def sign_path() -> None:
        signed = identify(raw, params)
        verify(raw, params, signed, SECRET)
        authenticate(raw, params, _lookup, MemoryNonceCache(), NOW)

    _only_client_errors(sign_path)


@FUZZ
@given(
    st.sampled_from(VECTORS),
    st.sampled_from(["query", "body", "header"]),
    header_names,
    st.one_of(anything, formish),
)
def test_mutated_vectors(vector: dict[str, Any], where: str, header: str, junk: str) -> None:
    raw = raw_from_vector(vector)
    data = junk.encode("utf-8", "surrogatepass")
    if where == "query":
        raw = RawRequest(
            raw.method, raw.path, raw.query_string + b"&" + data, raw.headers, raw.body
        )
    elif where == "body":
        raw = RawRequest(raw.method, raw.path, raw.query_string, raw.headers, raw.body + data)
    else:
        raw = RawRequest(
            raw.method, raw.path, raw.query_string, {**raw.headers, header: junk}, raw.body
        )
    _only_client_errors(lambda: _pipeline(raw, []))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["label"])
def test_unmutated_vectors_authenticate_or_fail_cleanly(vector: dict[str, Any]) -> None:
    raw = raw_from_vector(vector)
    _only_client_errors(lambda: _pipeline(raw, []))
