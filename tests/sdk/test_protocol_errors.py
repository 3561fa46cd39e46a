"""Protocol-level answers through the official clients and raw signed requests."""

from __future__ import annotations

import http.client
import json
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.unit.protocol.signer import sign_acs3, sign_v1, v1_query

from .clients import CallFailed, LegacyClient, TeaClient, make_client
from .conftest import DEV_KEY, RunningServer, unique


def send(server: RunningServer, raw: Any) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    path = "/?" + raw.query_string.decode() if raw.query_string else "/"
    conn.request(raw.method, path, body=raw.body or None, headers=dict(raw.headers))
    response = conn.getresponse()
    body = response.read()
    headers = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return response.status, headers, body


def test_wrong_secret_is_signature_mismatch(server: RunningServer, dialect: str) -> None:
    client = make_client(dialect, server.endpoint, DEV_KEY[0], "not-the-secret")
    with pytest.raises(CallFailed) as err:
        client.call("ListProjects")
    # the legacy SDK recognises our string to sign and reports a bad secret itself
    expected = "InvalidAccessKeySecret" if dialect == "legacy" else "SignatureDoesNotMatch"
    assert err.value.code == expected
    assert err.value.status == 400


def test_unknown_access_key(server: RunningServer, dialect: str) -> None:
    client = make_client(dialect, server.endpoint, "LTAInobodyHasThisKey00", "x")
    with pytest.raises(CallFailed) as err:
        client.call("ListProjects")
    assert err.value.code == "InvalidAccessKeyId.NotFound" and err.value.status == 404
    assert err.value.request_id


def test_missing_and_invalid_parameters(client: TeaClient | LegacyClient) -> None:
    with pytest.raises(CallFailed) as missing:
        client.call("CreateProject", ProjectName="no identifier")
    assert missing.value.code == "MissingParameter" and "ProjectIdentifier" in missing.value.message
    with pytest.raises(CallFailed) as invalid:
        client.call("GetDeployment", ProjectId=1, DeploymentId="not-a-number")
    assert invalid.value.code == "InvalidParameter" and "DeploymentId" in invalid.value.message
    with pytest.raises(CallFailed) as page:
        client.call("ListProjects", PageSize=1000)
    assert page.value.code == "InvalidParameter" and "PageSize" in page.value.message


def test_nul_in_a_value_is_invalid_and_stores_nothing(
    client: TeaClient | LegacyClient, new_project: Any
) -> None:
    project = new_project()
    name = unique("nul")
    with pytest.raises(CallFailed) as err:
        client.call(
            "CreateFile", ProjectId=project, FileName=name, FileType=10, Content="SELECT 1;\x00"
        )
    assert err.value.code == "InvalidParameter" and err.value.status == 400
    assert "Content" in err.value.message and "U+0000" in err.value.message
    assert err.value.request_id
    listed = client.call("ListFiles", ProjectId=project, Keyword=name)
    assert listed["Data"]["TotalCount"] == 0


def test_unknown_action_is_not_found(legacy: LegacyClient) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest(version="2020-05-18", action_name="NoSuchOperation")
    request.set_domain(legacy.endpoint)
    request.set_method("POST")
    with pytest.raises(ServerException) as err:
        legacy.sdk.do_action_with_exception(request)
    assert err.value.get_error_code() == "InvalidApi.NotFound"
    assert err.value.get_http_status() == 404


def test_common_request_get_with_everything_in_the_query(legacy: LegacyClient) -> None:
    from aliyunsdkcore.request import CommonRequest

    request = CommonRequest(version="2020-05-18", action_name="ListProjects")
    request.set_domain(legacy.endpoint)
    request.add_query_param("PageSize", "5")
    body = json.loads(legacy.sdk.do_action_with_exception(request))  # default GET
    assert body["PageResult"]["PageSize"] == 5


def test_xml_format_through_legacy_client(legacy: LegacyClient) -> None:
    pid = legacy.call("CreateProject", ProjectIdentifier=unique("xml"), ProjectName="x")["Data"]
    fid = legacy.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10)["Data"]
    dep = legacy.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"]
    time.sleep(0.3)
    request = legacy.request("GetDeployment", ProjectId=pid, DeploymentId=dep)
    request.set_accept_format("XML")
    status, headers, body, error = legacy.sdk._implementation_of_do_action(request)
    assert error is None and status == 200
    assert headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(body)
    assert root.tag == "GetDeploymentResponse"
    assert root.findtext("Data/Deployment/Status") == "1"
    assert root.findtext("Data/DeployedItems/FileId") == str(fid)
    assert root.findtext("RequestId")

    # errors in XML: <Error> with the content type the Tea SDK recognises
    bad = legacy.request("GetDeployment", ProjectId=pid, DeploymentId=999)
    bad.set_accept_format("XML")
    status, _headers, body, _ = legacy.sdk._implementation_of_do_action(bad)
    assert status == 404
    assert ET.fromstring(body).findtext("Code") == "InvalidDeployment.NotFound"


def test_xml_error_content_type(server: RunningServer) -> None:
    query = {**v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time(), "NoSuchThing"), "Format": "XML"}
    status, headers, body = send(server, sign_v1(DEV_KEY[1], query))
    assert status == 404
    assert headers["content-type"] == "text/xml;charset=utf-8"
    assert ET.fromstring(body).tag == "Error"


def test_replayed_request_is_rejected(server: RunningServer) -> None:
    raw = sign_acs3(DEV_KEY[0], DEV_KEY[1], uuid.uuid4().hex, time.time(), action="ListProjects")
    first = send(server, raw)
    assert first[0] == 200, first[2]
    status, _, body = send(server, raw)
    assert status == 400 and json.loads(body)["Code"] == "SignatureNonceUsed"


@pytest.mark.parametrize("skew", [-16 * 60, 16 * 60])
def test_timestamp_outside_window(server: RunningServer, skew: int) -> None:
    query = v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time() + skew, "ListProjects")
    status, _, body = send(server, sign_v1(DEV_KEY[1], query))
    assert status == 400 and json.loads(body)["Code"] == "InvalidTimeStamp.Expired"


def test_wrong_version(server: RunningServer) -> None:
    query = {**v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time(), "ListProjects")}
    query["Version"] = "2019-01-01"  # no such version (2024-05-18 is known: its own table)
    status, _, body = send(server, sign_v1(DEV_KEY[1], query))
    assert status == 400 and json.loads(body)["Code"] == "InvalidVersion"


def test_a_2020_only_action_at_2024_is_not_found(server: RunningServer) -> None:
    # every 2024 operation of the contract is served; these exist in 2020-05-18 only
    for action in ("OfflineNode", "ListCheckProcesses", "AddProjectMemberToRole"):
        query = {**v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time(), action)}
        query["Version"] = "2024-05-18"
        status, _, body = send(server, sign_v1(DEV_KEY[1], query))
        assert status == 404 and json.loads(body)["Code"] == "InvalidApi.NotFound"


def test_a_2024_read_is_served_as_a_signed_get(server: RunningServer) -> None:
    query = {**v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time(), "ListProjects")}
    query["Version"] = "2024-05-18"
    status, _, body = send(server, sign_v1(DEV_KEY[1], query, method="GET"))
    assert status == 200, body
    assert "PagingInfo" in json.loads(body)


def test_unsigned_request(server: RunningServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/?Action=ListProjects&Version=2020-05-18")
    response = conn.getresponse()
    document = json.loads(response.read())
    conn.close()
    assert response.status == 400 and document["Code"] == "IncompleteSignature"
    assert set(document) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_error_envelope_fields(server: RunningServer) -> None:
    query = v1_query(DEV_KEY[0], uuid.uuid4().hex, time.time(), "GetDeployment")
    status, headers, body = send(server, sign_v1(DEV_KEY[1], query, {"ProjectId": "1"}))
    document = json.loads(body)
    assert status == 400 and document["Code"] == "MissingParameter"
    assert document["RequestId"] == headers["x-acs-request-id"]
    assert document["HostId"] == "127.0.0.1:8080"
    assert "x-acs-retry-after" not in headers


def test_tea_client_sees_request_id_on_errors(tea: TeaClient) -> None:
    with pytest.raises(CallFailed) as err:
        tea.call("GetProject", ProjectId=123)
    assert err.value.code == "Invalid.Tenant.ProjectNotExists"
    assert err.value.request_id and len(err.value.request_id) == 36
