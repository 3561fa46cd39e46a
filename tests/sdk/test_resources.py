"""Resource files through the official 2020 SDKs (Tea and the legacy request classes):
create, submit, deploy, download byte for byte through GetFile's link, superseded versions
keep their bytes, `openworks resources upload`, and every bad input a clear 4xx."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from openworks.store import make_engine
from openworks.store.blobs import DatabaseBlobStore

from .clients import CallFailed, LegacyClient, TeaClient, make_client
from .conftest import DEV_KEY, RunningServer, poll, start_server, unique
from .test_checks import call

Client = TeaClient | LegacyClient
FOLDER = "Business Flow/resources/MaxCompute"


def create(client: Client, pid: int, name: str, file_type: int = 12, **params: object) -> int:
    fields: dict[str, object] = {
        "ProjectId": pid,
        "FileName": name,
        "FileType": file_type,
        "FileFolderPath": FOLDER,
        "OriginResourceName": name,
        "RegisterToCalcEngine": False,
        **params,
    }
    # the legacy CreateResourceFileRequest pins HTTPS: switched back as a user would
    return int(call(client, "CreateResourceFile", **fields)["Data"])


def link_of(client: Client, pid: int, fid: int) -> str:
    data = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]
    link = data["ResourceDownloadLink"]["downloadLink"]
    assert isinstance(link, str) and link.startswith("http://127.0.0.1:"), data
    return link


def download(link: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(link, timeout=10) as answer:
        return answer.read(), {k.lower(): v for k, v in answer.headers.items()}


def refused(link: str) -> int:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(link, timeout=10)
    err.value.close()
    return err.value.code


def deployed(client: Client, pid: int, deployment_id: int) -> None:
    assert poll(client, pid, deployment_id)["Data"]["Deployment"]["Status"] == 1


def names(client: Client, pid: int) -> list[str]:
    data = client.call("ListFiles", ProjectId=pid, PageSize=100)["Data"]
    return [f["FileName"] for f in data["Files"]]


def upload(server: RunningServer, path: Path, pid: int, *extra: str, **env: str) -> str:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "openworks", "resources", "upload", str(path)),
            *("--workspace", str(pid), "--database-url", server.database_url, *extra),
        ],
        capture_output=True,
        text=True,
        env={**server.env, **env},
        timeout=60,
    )
    assert done.returncode == 0 or not done.stdout, done
    return done.stdout.strip() if done.returncode == 0 else f"!{done.stderr.strip()}"


def test_create_submit_deploy_download_and_versions_keep_their_bytes(
    server: RunningServer, client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project(mode=3)
    name = unique("etl_udf") + ".py"
    first = "def evaluate(x):\n    return x + 1\n"
    fid = create(client, pid, name, 12, Content=first, RegisterToCalcEngine=True)
    file = client.call("GetFile", ProjectId=pid, FileId=fid)["Data"]["File"]
    assert (file["FileType"], file["FileName"], file["CommitStatus"]) == (12, name, 0)
    body, headers = download(link_of(client, pid, fid))
    assert body == first.encode()
    assert headers["content-type"] == "application/octet-stream"
    assert urllib.parse.quote(name) in headers["content-disposition"]

    deployed(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])
    deployed(client, pid, client.call("DeployFile", ProjectId=pid, FileId=fid)["Data"])

    second = "def evaluate(x):\n    return x + 2\n"
    client.call("UpdateFile", ProjectId=pid, FileId=fid, Content=second)
    assert download(link_of(client, pid, fid))[0] == second.encode()
    deployed(client, pid, client.call("SubmitFile", ProjectId=pid, FileId=fid)["Data"])

    listed = client.call("ListFileVersions", ProjectId=pid, FileId=fid, PageSize=10)["Data"]
    versions = {v["FileVersion"]: v for v in listed["FileVersions"]}
    assert set(versions) == {1, 2} and versions[1]["IsCurrentProd"] is True
    digests = {n: json.loads(v["NodeContent"])["resource"]["digest"] for n, v in versions.items()}
    assert digests[1] == hashlib.sha256(first.encode()).hexdigest()
    assert digests[2] == hashlib.sha256(second.encode()).hexdigest()
    if server.database_url.startswith("sqlite"):  # the default store: the server's database
        engine = make_engine(server.database_url)
        try:
            assert DatabaseBlobStore(engine).get(digests[1]) == first.encode()
        finally:
            engine.dispose()


def test_binary_resource_as_a_data_url_comes_back_byte_for_byte(
    client: Client, new_project: Callable[..., int]
) -> None:
    pid = new_project(mode=2)
    data = bytes(range(256)) * 300 + b"\x00PK\x03\x04"
    url = "data:application/java-archive;base64," + base64.b64encode(data).decode()
    name = unique("udf") + ".jar"
    fid = create(client, pid, name, 13, ResourceFile=url, OriginResourceName="my-udf-1.0.jar")
    body, headers = download(link_of(client, pid, fid))
    assert body == data and "my-udf-1.0.jar" in headers["content-disposition"]
    assert headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'


def test_links_are_signed(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project(mode=2)
    fid = create(client, pid, unique("f") + ".txt", 15, Content="abc", UploadMode=False)
    link = link_of(client, pid, fid)
    base, _, query = link.partition("?")
    params = dict(urllib.parse.parse_qsl(query))
    assert refused(base) == 403  # an upload URL is no download link
    assert refused(f"{base}?{urllib.parse.urlencode({**params, 'name': 'x'})}") == 403
    assert refused(f"{base}?{urllib.parse.urlencode({**params, 'expires': '1'})}") == 403
    assert refused(f"{base}?{urllib.parse.urlencode({**params, 'signature': '0' * 64})}") == 403
    plain = client.call("CreateFile", ProjectId=pid, FileName=unique("sql"), FileType=10)
    data = client.call("GetFile", ProjectId=pid, FileId=plain["Data"])["Data"]
    assert data["ResourceDownloadLink"].get("downloadLink") is None


def test_cli_upload_prints_a_url_create_accepts_in_that_workspace_only(
    server: RunningServer, client: Client, new_project: Callable[..., int], tmp_path: Path
) -> None:
    pid, other = new_project(mode=3), new_project(mode=3)
    path = tmp_path / "big.zip"
    data = os.urandom(5 * 1024 * 1024)  # more than a request body may carry
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    url = upload(server, path, pid, "--sha256", digest.upper())
    assert url == f"http://127.0.0.1:8470/resources/sha256/{digest}", url
    fid = create(client, pid, unique("arc") + ".zip", 14, ResourceFile=url)
    assert download(link_of(client, pid, fid))[0] == data

    name = unique("stolen") + ".zip"
    with pytest.raises(CallFailed) as err:
        create(client, other, name, 14, ResourceFile=url)
    assert (err.value.status, err.value.code) == (400, "Invalid.Resource.NotUploaded")
    assert name not in names(client, other)

    assert upload(server, path, pid, "--sha256", "0" * 64).startswith("!openworks: Invalid.Res")
    assert "TooLarge" in upload(server, path, pid, OPENWORKS_RESOURCE_MAX_BYTES="1000")
    assert "ProjectNotExists" in upload(server, path, 999_999_999)


@pytest.mark.parametrize(
    ("file_type", "suffix", "params", "code"),
    [
        (12, ".py", {}, "Invalid.Resource.Missing"),
        (12, ".py", {"Content": "x", "ResourceFile": "data:,x"}, "Invalid.Resource.Ambiguous"),
        (10, ".py", {"Content": "x"}, "Invalid.Resource.FileType"),
        (13, ".py", {"Content": "x"}, "Invalid.Resource.FileName"),
        (15, ".txt", {"ResourceFile": "http://example.com/a.txt"}, "Invalid.Resource.Url"),
        (15, ".txt", {"ResourceFile": "file:///etc/passwd"}, "Invalid.Resource.Url"),
        (15, ".txt", {"ResourceFile": "data:;base64,@@@"}, "Invalid.Resource.Url"),
        (
            15,
            ".txt",
            {"ResourceFile": "http://h/resources/sha256/" + "a" * 64},
            "Invalid.Resource.NotUploaded",
        ),
        (15, ".txt", {"Content": "x", "OriginResourceName": "a/b"}, "Invalid.Resource."),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(
    client: Client,
    new_project: Callable[..., int],
    file_type: int,
    suffix: str,
    params: dict[str, object],
    code: str,
) -> None:
    pid = new_project(mode=3)
    name = unique("bad") + suffix
    with pytest.raises(CallFailed) as err:
        create(client, pid, name, file_type, **params)
    assert err.value.status == 400 and err.value.code.startswith(code), err.value
    assert name not in names(client, pid)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with the directory store and a 1 KiB bound."""
    tmp = tmp_path_factory.mktemp("small")
    env = {
        "OPENWORKS_BLOB_STORE": "directory",
        "OPENWORKS_BLOB_DIR": str(tmp / "blobs"),
        "OPENWORKS_RESOURCE_MAX_BYTES": "1024",
    }
    running = start_server(tmp, extra_env=env)
    yield running
    running.stop()


def test_directory_store_and_the_size_bound(small_server: RunningServer, dialect: str) -> None:
    client = make_client(dialect, small_server.endpoint, *DEV_KEY)
    pid = int(client.call("CreateProject", ProjectIdentifier=unique("ws"), ProjectName="w")["Data"])
    fid = create(client, pid, unique("ok") + ".py", 12, Content="x" * 1024)
    assert download(link_of(client, pid, fid))[0] == b"x" * 1024
    blobs = Path(small_server.env["OPENWORKS_BLOB_DIR"]) / "sha256"
    digest = hashlib.sha256(b"x" * 1024).hexdigest()
    assert (blobs / digest[:2] / digest[2:]).read_bytes() == b"x" * 1024
    name = unique("big") + ".py"
    with pytest.raises(CallFailed) as err:
        create(client, pid, name, 12, Content="x" * 1025)
    assert (err.value.status, err.value.code) == (400, "Invalid.Resource.TooLarge")
    assert "1024 bytes" in err.value.message
    assert name not in names(client, pid)
