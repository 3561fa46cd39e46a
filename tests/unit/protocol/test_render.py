"""Success and error bodies in JSON and XML."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET

import orjson
import pytest

from openworks.protocol import (
    ApiError,
    ClientError,
    ServerError,
    Throttled,
    error_document,
    internal_error,
    invalid_parameter,
    new_request_id,
    render_error,
    render_success,
    response_format,
    signature_mismatch,
)

DOC: dict[str, object] = {
    "RequestId": "R1",
    "Success": True,
    "Data": {
        "Deployment": {"Name": "a<b&c>", "Status": 1, "ErrorMessage": None},
        "DeployedItems": [{"FileId": 1}, {"FileId": 2}],
    },
}


def test_request_id_shape() -> None:
    rid = new_request_id()
    assert re.fullmatch(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[0-9A-F]{4}-[0-9A-F]{12}", rid)
    assert rid != new_request_id()
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:2000]:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed).upper() == text


@pytest.mark.parametrize(
    ("params", "fmt"),
    [
        ({}, "JSON"),
        ({"Format": "json"}, "JSON"),
        ({"Format": "XML"}, "XML"),
        ({"Format": "xml"}, "XML"),
        ({"Format": "Xml"}, "XML"),
        ({"Format": "yaml"}, "JSON"),
    ],
)
def test_response_format(params: dict[str, str], fmt: str) -> None:
    assert response_format(params) == fmt


def test_json_success() -> None:
    body, content_type = render_success("GetDeployment", DOC, "JSON")
    assert content_type == "application/json;charset=utf-8"
    assert orjson.loads(body) == DOC


def test_xml_success_shape() -> None:
    body, content_type = render_success("GetDeployment", DOC, "XML")
    assert content_type == "application/xml;charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><GetDeploymentResponse>')
    assert b"<DeployedItems><FileId>1</FileId></DeployedItems><DeployedItems>" in body
    assert b"ErrorMessage" not in body
    assert b"<Success>true</Success>" in body
    root = ET.fromstring(body)
    assert root.tag == "GetDeploymentResponse"
    assert root.findtext("Data/Deployment/Name") == "a<b&c>"
    assert [e.findtext("FileId") for e in root.findall("Data/DeployedItems")] == ["1", "2"]


def test_xml_never_breaks() -> None:
    doc: dict[str, object] = {
        "bad key": 1,
        "1st": 2,
        "<x>": 3,
        "ok": "ctrl\x00\x1f\r\n\ud800end",
        "Nested": [[{"A": False}], None, 3.5],
        "Empty": {},
    }
    body, _ = render_success("Bad Action", doc, "XML")
    root = ET.fromstring(body)
    assert root.tag == "Response"
    assert [child.tag for child in root] == ["ok", "Nested", "Nested", "Empty"]
    assert root.findtext("ok") == "ctrl\ufffd\ufffd\r\n\ufffdend"
    assert root.findall("Nested")[0].findtext("A") == "false"


def test_error_document_fields() -> None:
    err = invalid_parameter("PageSize", "must be an integer")
    doc = error_document(err, "RID", "dataworks.example")
    assert doc == {
        "RequestId": "RID",
        "HostId": "dataworks.example",
        "Code": "InvalidParameter",
        "Message": err.message,
        "Recommend": "https://api.aliyun.com/troubleshoot?q=InvalidParameter"
        "&product=dataworks-public&requestId=RID",
        "HttpStatusCode": 400,
        "ErrorCode": "InvalidParameter",
        "ErrorMessage": err.message,
        "Success": False,
    }
    assert "product=other" in str(error_document(err, "RID", "h", product="other")["Recommend"])


def test_json_error() -> None:
    status, headers, body = render_error(internal_error(), "RID", "host", "JSON")
    assert status == 500
    assert headers == {"content-type": "application/json;charset=utf-8"}
    doc = orjson.loads(body)
    assert doc["Code"] == "InternalError.System" and doc["Success"] is False
    assert doc["HttpStatusCode"] == 500 and doc["RequestId"] == "RID"


def test_xml_error() -> None:
    err = signature_mismatch("POST&%2F&A%3D1")
    status, headers, body = render_error(err, "RID", "host", "XML")
    assert status == 400
    assert headers["content-type"] == "text/xml;charset=utf-8"
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "SignatureDoesNotMatch"
    assert root.findtext("Message", "").split(":")[1] == "POST&%2F&A%3D1"
    assert root.findtext("RequestId") == "RID"
    assert root.findtext("Success") == "false"


def test_throttled_headers() -> None:
    err = Throttled(
        "Throttling.User",
        "slow down",
        1500,
        extra_headers={"X-RateLimit-User-Api": "Limit:5,Remain:0,TimeLeft:1500"},
    )
    status, headers, _ = render_error(err, "RID", "host", "JSON")
    assert status == 429
    assert headers["x-acs-retry-after"] == "1500"
    assert headers["x-ratelimit-user-api"] == "Limit:5,Remain:0,TimeLeft:1500"
    assert Throttled("Throttling", "x", 0).headers["x-acs-retry-after"] == "1"


def test_error_tree_rules() -> None:
    assert isinstance(Throttled("Throttling", "m", 5), ClientError)
    assert ServerError("ServiceUnavailable", "m", 503).status == 503
    assert ClientError("Forbidden", "m", 403).status == 403
    with pytest.raises(ValueError):
        ClientError("X", "m", 500)
    with pytest.raises(ValueError):
        ServerError("X", "m", 404)
    with pytest.raises(ValueError):
        ApiError("X", "m", 200)
    with pytest.raises(ValueError):
        ClientError("Throttling.User", "m", 429)
    with pytest.raises(ValueError):
        ClientError("X", "m", headers={"X-Acs-Retry-After": "5"})


def test_error_headers_cannot_override_content_type() -> None:
    err = ClientError("X", "m", headers={"Content-Type": "text/plain", "X-Extra": "1"})
    _, headers, _ = render_error(err, "RID", "host", "JSON")
    assert headers == {"content-type": "application/json;charset=utf-8", "x-extra": "1"}
