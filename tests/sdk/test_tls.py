"""``openworks serve --tls`` end to end: the official SDKs unchanged (Tea with its default
HTTPS, the two legacy request classes that hard-code HTTPS), each client's way to trust the
local CA as measured here, an untrusted CA refused, an operator's own pair, several
processes, HTTPS only, the test kit with TLS, and a port in use as one line and exit 2."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openworks.testing import LEGACY_SDK_TLS_WARNING, OpenworksServer
from openworks.tls import ensure_local_certificates, tls_directory
from tests.dbutil import fresh_database_url, postgres_base

from .conftest import DEV_KEY, RunningServer, free_port, unique

# aliyunsdkcore's vendored urllib3 makes deprecated ssl calls on every HTTPS connection
# (the test kit filters exactly these under --openworks-tls)
pytestmark = pytest.mark.filterwarnings(LEGACY_SDK_TLS_WARNING)

ROOT = Path(__file__).resolve().parents[2]
SERVE = (sys.executable, "-m", "openworks", "serve")
TRUST_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
TRUST_VARIABLES += ("ALIBABA_CLOUD_CA_BUNDLE", "NODE_EXTRA_CA_CERTS")


def clean_env(tmp: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OPENWORKS_") and k not in TRUST_VARIABLES and "proxy" not in k.lower()
    }
    env.update({"XDG_DATA_HOME": str(tmp / "xdg"), "NO_PROXY": "*", "no_proxy": "*"})
    return env


def https_get(url: str, ca: Path | None, timeout: float = 5) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()


def start_tls_server(
    tmp: Path, args: tuple[str, ...], ca: Path | None = None
) -> tuple[RunningServer, Path]:
    """``openworks serve`` with TLS arguments on a free port; waits for /healthz over HTTPS
    trusting ``ca`` (default: the generated CA of the server's data directory)."""
    port = free_port()
    url = fresh_database_url("tls") if postgres_base() else f"sqlite:///{tmp}/ow.db"
    ca = ca or tls_directory(url, data_dir=tmp / "xdg" / "openworks") / "ca.pem"
    env = clean_env(tmp)
    log_path = tmp / f"server-{port}.log"
    command = [*SERVE, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--database-url", url, *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    running = RunningServer(port, url, process, log_path, env)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{running.log()}")
        try:
            if ca.exists() and https_get(f"https://127.0.0.1:{port}/healthz", ca, 1)[0] == 200:
                return running, ca
        except OSError:
            pass
        if time.monotonic() > deadline:
            running.stop()
            raise RuntimeError(f"server did not become healthy:\n{running.log()}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    tmp = tmp_path_factory.mktemp("tls")
    running, ca = start_tls_server(tmp, ("--tls", "--tls-name", "openworks.test"))
    yield running, ca
    running.stop()


def tea(endpoint: str, ca: Path) -> Any:
    """The Tea SDK as a user writes it: no protocol (HTTPS, its default), the CA trusted."""
    from alibabacloud_dataworks_public20200518.client import Client
    from alibabacloud_tea_openapi.models import Config

    return Client(
        Config(
            access_key_id=DEV_KEY[0],
            access_key_secret=DEV_KEY[1],
            endpoint=endpoint,
            region_id="cn-shanghai",
            ca=str(ca),
        )
    )


def legacy(endpoint: str, ca: Path) -> Any:
    from aliyunsdkcore.client import AcsClient

    client = AcsClient(*DEV_KEY, "cn-shanghai", auto_retry=False, verify=str(ca))
    client.add_endpoint("cn-shanghai", "dataworks-public", endpoint)
    weakref.finalize(client, client.session.close)
    return client


def create_project(client: Any) -> int:
    from alibabacloud_dataworks_public20200518 import models

    request = models.CreateProjectRequest(project_identifier=unique("tls"), project_name="tls")
    return int(client.create_project(request).body.data)


# -- a running server and the SDKs, unchanged ----------------------------------------------------


def test_announces_ca_and_keeps_keys_private(tls_server: tuple[RunningServer, Path]) -> None:
    running, ca = tls_server
    log = running.log()
    assert f"listening on https://127.0.0.1:{running.port} (HTTPS and plain HTTP)" in log
    assert f"TLS certificate authority {ca} (made now)" in log
    assert f"SSL_CERT_FILE={ca}" in log and f"ALIBABA_CLOUD_CA_BUNDLE={ca}" in log
    assert f"NODE_EXTRA_CA_CERTS={ca}" in log
    assert "for localhost, 127.0.0.1, ::1, openworks.test" in log
    directory = ca.parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((directory / key).stat().st_mode) == 0o600
    # the "listening" line comes after everything else openworks prints, and only once
    assert log.count("listening on") == 1


def test_tea_sdk_with_its_default_protocol(tls_server: tuple[RunningServer, Path]) -> None:
    from alibabacloud_dataworks_public20200518 import models

    running, ca = tls_server
    for host in ("127.0.0.1", "localhost"):
        client = tea(f"{host}:{running.port}", ca)
        assert client._protocol is None  # nothing set: the SDK's own default, HTTPS
        project_id = create_project(client)
        listed = client.list_projects(models.ListProjectsRequest(page_size=100)).body
        assert project_id in [p.project_id for p in listed.page_result.project_list]
        got = client.get_project(models.GetProjectRequest(project_id=project_id)).body
        assert got.data.project_id == project_id


def test_legacy_classes_that_hard_code_https(tls_server: tuple[RunningServer, Path]) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkdataworks_public.request.v20200518.CallbackExtensionRequest import (
        CallbackExtensionRequest,
    )
    from aliyunsdkdataworks_public.request.v20200518.ListCheckProcessesRequest import (
        ListCheckProcessesRequest,
    )
    from aliyunsdkdataworks_public.request.v20200518.ListProjectsRequest import (
        ListProjectsRequest,
    )

    running, ca = tls_server
    project_id = create_project(tea(running.endpoint, ca))
    client = legacy(running.endpoint, ca)

    listing = ListCheckProcessesRequest()
    assert listing.get_protocol_type() == "https"  # unchanged: the class pins HTTPS
    listing.set_ProjectId(project_id)
    listing.set_EventCode("commit-file")
    answer = json.loads(client.do_action_with_exception(listing))
    assert answer["PagingInfo"]["TotalCount"] == 0 and answer["RequestId"]

    callback = CallbackExtensionRequest()
    assert callback.get_protocol_type() == "https"
    callback.set_ExtensionCode("no-such-extension")
    callback.set_MessageId("00000000-0000-0000-0000-000000000000")
    callback.set_CheckResult("OK")
    with pytest.raises(ServerException) as refused:  # openworks' own answer, over TLS
        client.do_action_with_exception(callback)
    assert refused.value.get_http_status() in (400, 403, 404)
    assert refused.value.get_request_id()

    # the legacy SDK's default scheme, plain HTTP, on the same endpoint
    plain = ListProjectsRequest()
    assert plain.get_protocol_type() == "http"
    assert json.loads(client.do_action_with_exception(plain))["PageResult"]["TotalCount"] >= 1


def test_readme_example_as_written_for_dataworks_runs_over_https(
    tls_server: tuple[RunningServer, Path], tmp_path: Path
) -> None:
    """The README's SDK example as a user has it for DataWorks (no protocol="HTTP"): the
    endpoint and a trusted CA are all that change."""
    running, ca = tls_server
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    assert '    protocol="HTTP",\n' in example, "the README example changed: update this test"
    script = tmp_path / "as_for_dataworks.py"
    script.write_text(example.replace('    protocol="HTTP",\n', ""), encoding="utf-8")
    env = {**clean_env(tmp_path), "OPENWORKS_ENDPOINT": running.endpoint, "SSL_CERT_FILE": str(ca)}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("deployed ")
    # and without the CA the same script is refused: it really went through TLS
    del env["SSL_CERT_FILE"]
    refused = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in refused.stderr


PROBE = r"""
import json, sys
endpoint, ca, project_id = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])

def outcome(call):
    try:
        call()
        return "ok"
    except Exception as err:
        text = repr(err) + str(getattr(err, "message", ""))
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return "ssl"
        code = getattr(err, "code", None) or getattr(err, "error_code", None)
        return f"answered {code}" if code else text[:300]

from alibabacloud_dataworks_public20200518 import models
from alibabacloud_dataworks_public20200518.client import Client
from alibabacloud_tea_openapi.models import Config
tea = Client(Config(access_key_id="openworks-dev-key", access_key_secret="openworks-dev-secret",
                    endpoint=endpoint, region_id="cn-shanghai", ca=ca))
from aliyunsdkcore.client import AcsClient
from aliyunsdkdataworks_public.request.v20200518.ListCheckProcessesRequest import (
    ListCheckProcessesRequest)
legacy = AcsClient("openworks-dev-key", "openworks-dev-secret", "cn-shanghai",
                   auto_retry=False, verify=ca)
legacy.add_endpoint("cn-shanghai", "dataworks-public", endpoint)
request = ListCheckProcessesRequest()
request.set_ProjectId(project_id)
request.set_EventCode("commit-file")
result = {
    "tea": outcome(lambda: tea.list_projects(models.ListProjectsRequest())),
    "legacy": outcome(lambda: legacy.do_action_with_exception(request)),
}
legacy.session.close()
print(json.dumps(result))
"""


def test_how_each_python_sdk_trusts_the_ca(
    tls_server: tuple[RunningServer, Path], tmp_path: Path
) -> None:
    """Measured, each in a fresh process (OpenSSL reads the variables when a client makes its
    SSL context): the Tea SDK reads SSL_CERT_FILE or Config(ca=…); aliyun-python-sdk-core
    ignores both and reads ALIBABA_CLOUD_CA_BUNDLE or AcsClient(verify=…); neither takes
    REQUESTS_CA_BUNDLE. Without the CA, or trusting another one, both refuse the server."""
    running, ca = tls_server
    project_id = create_project(tea(running.endpoint, ca))
    other = ensure_local_certificates(tmp_path / "other").ca
    assert other is not None
    cases: dict[str, tuple[dict[str, str], Path | None, dict[str, str]]] = {
        "no trust": ({}, None, {"tea": "ssl", "legacy": "ssl"}),
        "SSL_CERT_FILE": ({"SSL_CERT_FILE": str(ca)}, None, {"tea": "ok", "legacy": "ssl"}),
        "ALIBABA_CLOUD_CA_BUNDLE": (
            {"ALIBABA_CLOUD_CA_BUNDLE": str(ca)},
            None,
            {"tea": "ssl", "legacy": "ok"},
        ),
        "REQUESTS_CA_BUNDLE": (
            {"REQUESTS_CA_BUNDLE": str(ca)},
            None,
            {"tea": "ssl", "legacy": "ssl"},
        ),
        "another CA": ({}, other, {"tea": "ssl", "legacy": "ssl"}),
        "ca= / verify=": ({}, ca, {"tea": "ok", "legacy": "ok"}),
    }
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-c", PROBE, running.endpoint, str(trusted or ""), str(project_id)],
            env={**clean_env(tmp_path), **variables},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (variables, trusted, _) in cases.items()
    }
    for name, process in processes.items():
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, f"{name}: {err}"
        assert json.loads(out) == cases[name][2], name
    log = running.log()  # refused handshakes are the client's business: nothing logged
    assert "Traceback" not in log and "ERROR" not in log, log


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_node_reads_node_extra_ca_certs(
    tls_server: tuple[RunningServer, Path], tmp_path: Path
) -> None:
    running, ca = tls_server
    script = (
        "require('https').get(process.argv[1], r => { let b = ''; r.on('data', d => b += d);"
        " r.on('end', () => console.log(r.statusCode, b)); })"
        ".on('error', e => console.log('error', e.code));"
    )
    url = f"https://localhost:{running.port}/healthz"
    node = shutil.which("node") or "node"
    answers = [
        subprocess.run(
            [node, "-e", script, url],
            env={**clean_env(tmp_path), **extra},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for extra in ({}, {"NODE_EXTRA_CA_CERTS": str(ca)})
    ]
    assert answers[0].startswith("error ")  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
    assert answers[1] == '200 {"status":"ok"}'


# -- an operator's own pair, several processes, HTTPS only --------------------------------------


def test_operator_pair_with_workers_and_tls_only(tmp_path: Path) -> None:
    from alibabacloud_dataworks_public20200518 import models

    own = ensure_local_certificates(tmp_path / "operator-pki", ["api.example"])
    assert own.ca is not None
    running, _ = start_tls_server(
        tmp_path,
        ("--tls-cert", str(own.cert), "--tls-key", str(own.key), "--tls-only", "--workers", "2"),
        ca=own.ca,
    )
    try:
        log = running.log()
        assert f"TLS certificate {own.cert} (your own; for localhost" in log
        assert f"listening on https://127.0.0.1:{running.port}\n" in log
        assert "certificate authority" not in log
        assert not (tmp_path / "tls").exists()  # nothing generated
        client = tea(running.endpoint, own.ca)
        ids = [create_project(client) for _ in range(4)]
        listed = client.list_projects(models.ListProjectsRequest(page_size=100)).body
        assert set(ids) <= {p.project_id for p in listed.page_result.project_list}
        # plain HTTP is refused with a short answer, not served
        with socket.create_connection(("127.0.0.1", running.port), timeout=5) as plain:
            plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while chunk := plain.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert answer.endswith(b"This port speaks HTTPS only: use https://.\n")
    finally:
        running.stop()
    assert running.process.returncode is not None


def test_bad_tls_settings_are_one_line(tmp_path: Path) -> None:
    one = ensure_local_certificates(tmp_path / "one")
    two = ensure_local_certificates(tmp_path / "two")
    command = [sys.executable, "-m", "openworks", "serve", "--port", str(free_port())]
    command += ["--database-url", f"sqlite:///{tmp_path}/ow.db"]
    for args, expected in (
        (
            ["--tls-cert", str(one.cert), "--tls-key", str(two.key)],
            "cannot use the TLS certificate",
        ),
        (["--tls-cert", str(one.cert)], "--tls-cert and --tls-key go together"),
        (["--tls-name", "not a name"], "is neither a host name nor an IP address"),
    ):
        done = subprocess.run(
            [*command, *args],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and expected in done.stderr, done.stderr


@pytest.mark.parametrize("args", [(), ("--tls", "--workers", "2")], ids=["plain", "tls-workers"])
def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--port", str(port), *args, "--database-url", f"sqlite:///{tmp_path}/ow.db"],
            env=clean_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2
    assert done.stdout == ""  # nothing announced
    assert done.stderr == f"openworks: cannot listen on 127.0.0.1:{port}: address already in use\n"


# -- the test kit --------------------------------------------------------------------------------


def test_kit_server_with_tls_hands_out_trusting_clients(tmp_path: Path) -> None:
    from alibabacloud_dataworks_public20200518 import models
    from aliyunsdkdataworks_public.request.v20200518.ListCheckProcessesRequest import (
        ListCheckProcessesRequest,
    )
    from aliyunsdkdataworks_public.request.v20200518.ListProjectsRequest import (
        ListProjectsRequest,
    )

    server = OpenworksServer(tmp_path, tls=True)
    server.start()
    try:
        assert server.url == f"https://127.0.0.1:{server.port}"
        assert server.ca_file == tmp_path / "tls" / "ca.pem"
        assert https_get(f"{server.url}/healthz", server.ca_file)[0] == 200
        server.seed(3)  # the control API over HTTPS
        assert server.state()["seed"] == 3
        project_id = server.create_workspace()
        client = server.dataworks_client()
        assert client._protocol is None  # the SDK's default, HTTPS
        got = client.get_project(models.GetProjectRequest(project_id=project_id)).body
        assert got.data.project_id == project_id
        legacy_client = server.legacy_dataworks_client()
        request = ListCheckProcessesRequest()
        request.set_ProjectId(project_id)
        request.set_EventCode("commit-file")
        answer = json.loads(legacy_client.do_action_with_exception(request))
        assert answer["PagingInfo"]["TotalCount"] == 0
        listed = json.loads(legacy_client.do_action_with_exception(ListProjectsRequest()))
        assert listed["PageResult"]["TotalCount"] == 1
    finally:
        server.stop()


USER_TESTS = """
import json

from aliyunsdkdataworks_public.request.v20200518.ListCheckProcessesRequest import (
    ListCheckProcessesRequest,
)


def test_https(openworks_server, dataworks_client, legacy_dataworks_client, dataworks_workspace):
    assert openworks_server.url.startswith("https://")
    from alibabacloud_dataworks_public20200518 import models

    request = models.GetProjectRequest(project_id=dataworks_workspace)
    assert dataworks_client.get_project(request).body.data.project_id == dataworks_workspace
    checks = ListCheckProcessesRequest()
    checks.set_ProjectId(dataworks_workspace)
    checks.set_EventCode("commit-file")
    body = json.loads(legacy_dataworks_client.do_action_with_exception(checks))
    assert body["PagingInfo"]["TotalCount"] == 0
"""


def test_kit_option_runs_a_users_tests_over_https(tmp_path: Path) -> None:
    """``pytest --openworks-tls``: a user's unchanged tests (the README example among them)
    go through HTTPS, warnings as errors."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Test your automation", 1)[1]
    example = section.split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "test_example.py").write_text(example, encoding="utf-8")
    shutil.copy(ROOT / "examples" / "deployer" / "deployer.py", tmp_path / "deployer.py")
    (tmp_path / "test_https.py").write_text(USER_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\npythonpath = .\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--openworks-tls"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
