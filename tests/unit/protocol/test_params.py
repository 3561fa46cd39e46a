"""Decoding the wire parameters and typing them against a ParamSpec list."""

from __future__ import annotations

import json

import pytest

from openworks.protocol import (
    COMMON_PARAMETERS,
    ApiError,
    ParamSpec,
    RawRequest,
    coerce_params,
    decode_params,
)
from openworks.protocol.params import (
    INT32_RANGE,
    INT64_RANGE,
    MAX_ITEMS,
    int_range,
    to_int,
    to_int_list,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
TAGS = ParamSpec("Tags", "list", items={"Key": "str", "Value": "str"})


def _raw(
    query: bytes = b"", body: bytes = b"", headers: dict[str, str] | None = None
) -> RawRequest:
    return RawRequest("POST", "/", query, FORM if headers is None else headers, body)


def _error(exc: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, str]:
    return exc.value.status, exc.value.code, exc.value.message


# -- decode_params ---------------------------------------------------------------------


def test_merges_query_and_body_with_plus_as_space() -> None:
    raw = _raw(b"A=1&B=x+y%2B&Empty=", b"C=%E4%B8%AD+z&D")
    assert decode_params(raw) == {"A": "1", "B": "x y+", "Empty": "", "C": "中 z", "D": ""}


def test_skips_empty_segments() -> None:
    assert decode_params(_raw(b"&&A=1&&")) == {"A": "1"}


def test_content_type_with_charset_and_case() -> None:
    headers = {"content-type": "Application/X-WWW-Form-Urlencoded; charset=UTF-8"}
    assert decode_params(_raw(body=b"A=1", headers=headers)) == {"A": "1"}


def test_other_content_types_are_not_forms() -> None:
    assert decode_params(_raw(body=b"A=1", headers={"content-type": "application/json"})) == {}


def test_missing_content_type_form_like_body_is_read() -> None:
    assert decode_params(_raw(body=b"A=1&B=%20x", headers={})) == {"A": "1", "B": " x"}
    assert decode_params(_raw(body=b'{"A": 1}', headers={})) == {}
    assert decode_params(_raw(body=b"no equals sign", headers={})) == {}
    assert decode_params(_raw(body=b"plain", headers={})) == {}


def test_duplicates_same_value_accepted() -> None:
    assert decode_params(_raw(b"A=1&A=1", b"A=1")) == {"A": "1"}


@pytest.mark.parametrize(("query", "body"), [(b"A=1&A=2", b""), (b"A=1", b"A=2"), (b"A=", b"A=x")])
def test_duplicates_different_values_rejected(query: bytes, body: bytes) -> None:
    with pytest.raises(ApiError) as exc:
        decode_params(_raw(query, body))
    status, code, message = _error(exc)
    assert (status, code) == (400, "InvalidParameter")
    assert '"A"' in message and "more than once with different values" in message


def test_duplicate_with_different_value_only_after_decoding() -> None:
    assert decode_params(_raw(b"A=a+b&A=a%20b")) == {"A": "a b"}


@pytest.mark.parametrize(
    "query",
    [b"A=%FF", b"A=%C3", b"A=%ED%A0%80", b"%FF=1", b"A=%zz", b"A=%4", b"A=100%", b"=1"],
)
def test_invalid_encoding_rejected(query: bytes) -> None:
    with pytest.raises(ApiError) as exc:
        decode_params(_raw(query))
    assert exc.value.code == "InvalidParameter"


@pytest.mark.parametrize("body", [b"A=\xff", b"\xff=1", b"A=\xed\xa0\x80", b"A=x\xff+y"])
def test_invalid_raw_utf8_in_body_rejected(body: bytes) -> None:
    # unescaped bytes take a shorter path than escaped ones: the same check on both
    with pytest.raises(ApiError) as exc:
        decode_params(_raw(body=body))
    assert exc.value.code == "InvalidParameter" and "not valid UTF-8" in exc.value.message


def test_raw_utf8_accepted_unescaped() -> None:
    assert decode_params(_raw(b"A=\xe4\xb8\xad", b"B=\xe4\xb8\xad+1")) == {"A": "中", "B": "中 1"}


# -- coerce_params ---------------------------------------------------------------------


def _one(spec: ParamSpec, value: str) -> object:
    return coerce_params([spec], {spec.name: value}).get(spec.name)


def _bad(spec: ParamSpec, value: str) -> str:
    with pytest.raises(ApiError) as exc:
        coerce_params([spec], {spec.name: value})
    assert exc.value.code == "InvalidParameter"
    assert f'"{spec.name}"' in exc.value.message
    return exc.value.message


@pytest.mark.parametrize(
    ("text", "value"),
    [("True", True), ("False", False), ("true", True), ("FALSE", False), ("tRuE", True)],
)
def test_booleans(text: str, value: bool) -> None:
    assert _one(ParamSpec("B", "bool"), text) is value


@pytest.mark.parametrize("text", ["1", "0", "yes", "True ", "truee", "\uff54\uff52\uff55\uff45"])
def test_bad_booleans(text: str) -> None:
    assert "true or false" in _bad(ParamSpec("B", "bool"), text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("+7", 7),
        ("007", 7),
        ("-0", 0),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("0" * 5000 + "1", 1),
    ],
)
def test_ints(text: str, value: int) -> None:
    assert _one(ParamSpec("N", "int"), text) == value


@pytest.mark.parametrize(
    "text",
    [
        "9223372036854775808",
        "-9223372036854775809",
        "1" * 5000,
        "1.0",
        "1e3",
        " 1",
        "1 ",
        "abc",
        "--1",
        "+",
        "٣",
        "0x10",
        "1_000",
    ],
)
def test_bad_ints(text: str) -> None:
    _bad(ParamSpec("N", "int"), text)


@pytest.mark.parametrize(("text", "value"), [("1.5", 1.5), ("-2", -2.0), (".5", 0.5), ("1e3", 1e3)])
def test_floats(text: str, value: float) -> None:
    assert _one(ParamSpec("F", "float"), text) == value


@pytest.mark.parametrize("text", ["nan", "inf", "1e999", "1_0", "1.2.3", "e5"])
def test_bad_floats(text: str) -> None:
    _bad(ParamSpec("F", "float"), text)


def test_json_list_both_styles() -> None:
    tea = '[{"Key":"k","Value":"v 1/中"}]'
    legacy = json.dumps([{"Key": "k", "Value": "v 1/中"}])
    assert "\\u4e2d" in legacy and ": " in legacy
    expected = [{"Key": "k", "Value": "v 1/中"}]
    assert _one(TAGS, tea) == expected
    assert _one(TAGS, legacy) == expected


def test_json_list_items_drop_unknown_and_null_fields() -> None:
    text = '[{"Key":"k","Extra":1},{"Key":"j","Value":null}]'
    assert _one(TAGS, text) == [{"Key": "k"}, {"Key": "j"}]


@pytest.mark.parametrize(
    "text", ["[1]", '[{"Key":1}]', '[{"Value":true}]', '{"Key":"k"}', "[", "null", '"x"']
)
def test_bad_json_lists(text: str) -> None:
    _bad(TAGS, text)


def test_item_types() -> None:
    spec = ParamSpec("L", "list", items={"I": "int", "B": "bool", "F": "float", "A": "any"})
    assert _one(spec, '[{"I":1,"B":false,"F":2,"A":[1]}]') == [
        {"I": 1, "B": False, "F": 2, "A": [1]}
    ]
    _bad(spec, '[{"I":true}]')
    _bad(spec, '[{"I":1.5}]')
    _bad(spec, '[{"B":0}]')
    _bad(spec, '[{"F":"1"}]')


def test_untyped_list_and_dict() -> None:
    assert _one(ParamSpec("L", "list"), '[1, "a"]') == [1, "a"]
    assert _one(ParamSpec("D", "dict"), '{"a": [1]}') == {"a": [1]}
    _bad(ParamSpec("D", "dict"), "[]")
    _bad(ParamSpec("D", "dict"), "[" * 5000)


def test_str_and_any_are_kept_verbatim() -> None:
    assert _one(ParamSpec("S", "str"), " a+b ") == " a+b "
    assert _one(ParamSpec("A", "any"), "x") == "x"


def test_empty_values() -> None:
    specs = [
        ParamSpec(n, t)
        for n, t in [
            ("S", "str"),
            ("N", "int"),
            ("B", "bool"),
            ("L", "list"),
            ("F", "float"),
            ("D", "dict"),
        ]
    ]
    params = {"S": "", "N": "", "B": "", "L": "", "F": "", "D": ""}
    assert coerce_params(specs, params) == {"S": ""}
    with pytest.raises(ApiError) as exc:
        coerce_params([ParamSpec("N", "int", required=True)], {"N": ""})
    assert exc.value.code == "MissingParameter"


def test_required_and_ignored_names() -> None:
    specs = [ParamSpec("DeploymentId", "int", required=True)]
    params = {"DeploymentId": "5", "Action": "X", "Unknown": "y", "Signature": "s"}
    assert coerce_params(specs, params) == {"DeploymentId": 5}
    with pytest.raises(ApiError) as exc:
        coerce_params(specs, {"Action": "X"})
    status, code, message = _error(exc)
    assert (status, code) == (400, "MissingParameter")
    assert '"DeploymentId"' in message


def test_common_parameter_specs_are_ignored() -> None:
    assert "RegionId" in COMMON_PARAMETERS
    assert coerce_params([ParamSpec("RegionId", "int", required=True)], {}) == {}


def test_one_of() -> None:
    group = ("ProjectId", "ProjectIdentifier")
    specs = [
        ParamSpec("ProjectId", "int", one_of=group),
        ParamSpec("ProjectIdentifier", "str", one_of=group),
    ]
    assert coerce_params(specs, {"ProjectId": "1"}) == {"ProjectId": 1}
    assert coerce_params(specs, {"ProjectIdentifier": "p"}) == {"ProjectIdentifier": "p"}
    for params in ({}, {"ProjectId": ""}):
        with pytest.raises(ApiError) as exc:
            coerce_params(specs, params)
        assert exc.value.code == "MissingParameter"
        assert '"ProjectId or ProjectIdentifier"' in exc.value.message


def test_max_length() -> None:
    spec = ParamSpec("S", "str", max_length=3)
    assert _one(spec, "abc") == "abc"
    assert "longer than 3" in _bad(spec, "abcd")
    assert _one(ParamSpec("S", "str"), "x" * 1_048_576)
    _bad(ParamSpec("S", "str"), "x" * 1_048_577)
    _bad(ParamSpec("N", "int", max_length=2), "123")


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        ParamSpec("X", "integer")
    with pytest.raises(ValueError):
        ParamSpec("X", "list", items={"A": "list"})


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        (ParamSpec("S", "str"), "a\x00b"),
        (ParamSpec("S", "str"), "\x00"),
        (ParamSpec("N", "int"), "1\x00"),
        (ParamSpec("A", "any"), "\x00"),
        (ParamSpec("L", "list"), '["a\\u0000"]'),
        (ParamSpec("D", "dict"), '{"k\\U0000": 1}'),
    ],
)
def test_nul_is_refused_for_every_type(spec: ParamSpec, value: str) -> None:
    assert "NUL" in _bad(spec, value)


def test_nul_escape_is_plain_text_in_strings() -> None:
    assert _one(ParamSpec("S", "str"), "\\u0000") == "\\u0000"
    assert _one(ParamSpec("L", "list"), '["\\u0001"]') == ["\u0001"]


@pytest.mark.parametrize("query", [b"A=a%00b", b"AccessKeyId=%00", b"Sign%00atureNonce=1"])
def test_decode_refuses_nul_in_any_name_or_value(query: bytes) -> None:
    with pytest.raises(ApiError) as exc:
        decode_params(_raw(query))
    status, code, message = _error(exc)
    assert (status, code) == (400, "InvalidParameter") and "NUL" in message


# -- bounded integers, integer lists and list sizes -------------------------------------


@pytest.mark.parametrize(
    ("bits", "text", "value"),
    [
        (32, "2147483647", 2**31 - 1),
        (32, "-2147483648", -(2**31)),
        (64, "9223372036854775807", 2**63 - 1),
        (64, "-9223372036854775808", -(2**63)),
    ],
)
def test_int_widths_accept_their_limits(bits: int, text: str, value: int) -> None:
    assert _one(ParamSpec("N", "int", bits=bits), text) == value
    assert to_int("N", text, bits) == value


@pytest.mark.parametrize(
    ("bits", "text"),
    [
        (32, "2147483648"),
        (32, "-2147483649"),
        (32, str(2**40)),
        (64, "9223372036854775808"),
        (64, "-9223372036854775809"),
        (64, "9" * 23),
        (32, "9" * 23),
    ],
)
def test_int_widths_refuse_beyond_with_the_range(bits: int, text: str) -> None:
    low, high = INT32_RANGE if bits == 32 else INT64_RANGE
    assert f"must be between {low} and {high}" in _bad(ParamSpec("N", "int", bits=bits), text)


@pytest.mark.parametrize(
    "text", ["\u00b2", "\uff11", "\u0663", "1\u00b2", "\uff0d1", "\uff11\uff10"]
)
def test_only_ascii_digits_are_integers(text: str) -> None:
    assert "must be an integer" in _bad(ParamSpec("N", "int", bits=32), text)


def test_int_minimum_and_maximum_narrow_the_width() -> None:
    spec = ParamSpec("PageSize", "int", bits=32, minimum=1, maximum=100)
    assert spec.bounds == (1, 100)
    assert _one(spec, "1") == 1 and _one(spec, "100") == 100
    for text in ("0", "-1", "101", str(2**31), str(2**63)):
        assert "must be between 1 and 100" in _bad(spec, text)
    assert to_int("P", "5", 32, minimum=1, maximum=9) == 5
    with pytest.raises(ApiError):
        to_int("P", "10", 32, minimum=1, maximum=9)
    assert int_range(32, minimum=1) == (1, 2**31 - 1)
    assert int_range(64, maximum=-(2**70)) == (-(2**63), -(2**70))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10", [10]),
        ("10,23", [10, 23]),
        (" 10 , 23 ,", [10, 23]),
        ("-1,+2", [-1, 2]),
        ("", []),
        ("  ", []),
        ("2147483647", [2**31 - 1]),
    ],
)
def test_int_lists(text: str, value: list[int]) -> None:
    assert to_int_list("L", text, 32) == value
    spec = ParamSpec("L", "int_list", bits=32)
    assert coerce_params([spec], {"L": text}).get("L") == (value if text else None)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2147483648", "must be between -2147483648 and 2147483647"),
        ("10," + "9" * 23, "must be between"),
        ("10,,23", "comma-separated list of integers"),
        (",", "comma-separated list of integers"),
        ("10;23", "comma-separated list of integers"),
        ("1.5", "comma-separated list of integers"),
        ("\u00b2", "comma-separated list of integers"),
        ("\uff11\uff10", "comma-separated list of integers"),
        (",".join(["1"] * 4), "at most 3 integers"),
        ("1," * 100_000, "at most 3 integers"),
    ],
)
def test_bad_int_lists(text: str, reason: str) -> None:
    spec = ParamSpec("L", "int_list", bits=32, max_items=3, max_length=10**6)
    assert reason in _bad(spec, text)


def test_int_list_count_is_checked_before_any_element() -> None:
    # a huge list fails on its size, without converting 10^5 elements
    with pytest.raises(ApiError) as exc:
        to_int_list("L", ",".join(["x"] * 100_000), max_items=1000)
    assert "at most 1000 integers" in exc.value.message
    assert to_int_list("L", ",".join(["7"] * 1000) + ",") == [7] * 1000


def test_json_list_element_count() -> None:
    spec = ParamSpec("Tags", "list", items={"Key": "str"}, max_items=2)
    assert _one(spec, '[{"Key":"a"},{"Key":"b"}]') == [{"Key": "a"}, {"Key": "b"}]
    assert "at most 2 elements" in _bad(spec, '[{"Key":"a"},{"Key":"b"},{"Key":"c"}]')
    untyped = ParamSpec("L", "list", max_length=10**6)
    assert MAX_ITEMS == 1000
    assert len(_one(untyped, json.dumps([1] * 1000))) == 1000  # type: ignore[arg-type]
    assert "at most 1000 elements" in _bad(untyped, json.dumps([1] * 100_000))


def test_int_item_fields_are_64_bit() -> None:
    spec = ParamSpec("L", "list", items={"I": "int"})
    assert _one(spec, f'[{{"I":{2**63 - 1}}}]') == [{"I": 2**63 - 1}]
    _bad(spec, f'[{{"I":{2**63}}}]')
    _bad(spec, '[{"I":' + "9" * 30 + "}]")


@pytest.mark.parametrize(
    "kwargs",
    [{"bits": 16}, {"bits": 128}, {"minimum": 5, "maximum": 4}, {"max_items": -1}],
)
def test_spec_bounds_validation(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ParamSpec("X", "int", **kwargs)  # type: ignore[arg-type]
