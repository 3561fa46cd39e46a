"""pytest plugin: a DataWorks-compatible server and configured official clients per test.

Installed with ``pip install openworks[testing]`` and loaded automatically (entry point
``pytest11``). Fixtures::

    _openworks_session_server   session  one server per test session (per xdist worker):
         │                               uvicorn in a background thread, free port,
         │                               temporary SQLite database, control API on
         ▼
    openworks_server            function the same server, reset before each test (empty,
         │                               mode instant, no forced failures, seed 0 or the
         │                               ``@pytest.mark.openworks_seed(n)`` value)
         ├── dataworks_client            alibabacloud_dataworks_public20200518 Client
         ├── dataworks_client_2024       alibabacloud_dataworks_public20240518 Client (the
         │                               same server: nodes, pipeline runs; one history)
         ├── legacy_dataworks_client     aliyunsdkcore AcsClient (endpoint registered for
         │                               product dataworks-public, region cn-shanghai)
         └── dataworks_workspace         ProjectId (int) of a fresh standard-mode workspace

Resetting one server per test costs a few milliseconds; starting a server costs about a
second, hence the session scope. Tests sharing a session must not run concurrently in one
process (they would share state); pytest-xdist workers each get their own server.

HTTPS: ``pytest --openworks-tls`` (or ``openworks_tls = true`` in the ini file) starts the
server with TLS — a certificate authority made for the session — and the clients trust it
and keep their SDK's default scheme (HTTPS for the Tea SDK; the legacy SDK's own per
request, plain HTTP mostly: the port answers both). ``OpenworksServer(directory, tls=True)``
does the same for a server of your own; ``ca_file`` is the CA to trust.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import uvicorn

    from openworks.server import Service

__all__ = [
    "LEGACY_SDK_TLS_WARNING",
    "ControlError",
    "OpenworksServer",
    "dataworks_client",
    "dataworks_client_2024",
    "dataworks_workspace",
    "legacy_dataworks_client",
    "openworks_server",
]

REGION = "cn-shanghai"
LEGACY_SDK_TLS_WARNING = "ignore::DeprecationWarning:aliyunsdkcore.vendored"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(Exception):
    """The control API refused a request; ``code`` and ``status`` say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code} ({status}): {message}")
        self.status, self.code, self.message = status, code, message


class OpenworksServer:
    """A running openworks server with the test-control API, and its root AccessKey."""

    def __init__(self, directory: Path, tls: bool = False) -> None:
        self.directory = directory
        self.tls = tls
        self.ca_file: Path | None = None  # with tls: the certificate authority to trust
        self._opener = _NO_PROXY
        self.access_key_id = ""
        self.access_key_secret = ""
        self.host = "127.0.0.1"
        self.port = 0
        self.service: Service | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._workspaces = 0

    # -- what clients need --------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        """``host:port``, as the SDKs take it (with protocol HTTP, or HTTPS trusting
        ``ca_file`` when the server has TLS)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.endpoint}"

    # -- lifetime -----------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> None:
        import uvicorn

        from openworks.config import Settings
        from openworks.server import build_service, create_app
        from openworks.serving import KEEP_ALIVE_SECONDS, PROTOCOL
        from openworks.store.identity import new_key_pair

        self.access_key_id, self.access_key_secret = new_key_pair()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, 0))
        self.port = int(self._socket.getsockname()[1])
        settings = Settings(
            host=self.host,
            port=self.port,
            database_url=f"sqlite:///{self.directory / 'openworks.db'}",
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            control=True,
        )
        self.service = build_service(settings)
        options: dict[str, Any] = {
            "log_config": None,
            "log_level": "warning",
            "access_log": False,
            "lifespan": "on",
            "http": PROTOCOL,
            "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        }
        if self.tls:
            from openworks import tls

            files = tls.ensure_local_certificates(self.directory / "tls")
            self.ca_file = files.ca
            self._opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({}),
                urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=files.ca)),
            )
            serving = tls.ServingTls(str(files.cert), str(files.key))
            options["http"] = tls.PROTOCOL
            config: uvicorn.Config = tls.TlsConfig(create_app(self.service), tls=serving, **options)
        else:
            config = uvicorn.Config(create_app(self.service), **options)
        self._server = uvicorn.Server(config)
        server, sock = self._server, self._socket
        self._thread = threading.Thread(
            target=lambda: server.run(sockets=[sock]), name="openworks-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the openworks test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.service is not None:
            self.service.engine.dispose()
            self.service = None
        self._server = None

    # -- the control API ----------------------------------------------------------------
    def _control(self, method: str, name: str, body: dict[str, Any] | None = None) -> Any:
        token = base64.b64encode(f"{self.access_key_id}:{self.access_key_secret}".encode())
        request = urllib.request.Request(
            f"{self.url}/_openworks/{name}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "Authorization": f"Basic {token.decode()}",
                "Content-Type": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as err:
            with err:
                document = json.loads(err.read() or b"{}")
            code, message = document.get("Code", ""), document.get("Message", "")
            raise ControlError(err.code, code, message) from None

    def state(self) -> dict[str, Any]:
        """The control state: mode, delay_ms, fail_remaining, fail_message, … seed."""
        result: dict[str, Any] = self._control("GET", "state")
        return result

    def reset(self) -> None:
        """Remove every workspace, file, package and user but the root account and key."""
        self._control("POST", "reset", {})
        self._workspaces = 0

    def seed(self, n: int) -> None:
        """Reset, then number new IDs from starting points derived from ``n``."""
        self._control("POST", "seed", {"seed": n})
        self._workspaces = 0

    def set_mode(self, mode: str, delay_ms: int = 0) -> None:
        """How new packages run: ``instant``, ``delay`` (``delay_ms``) or ``manual``."""
        self._control("POST", "mode", {"mode": mode, "delay_ms": delay_ms})

    def release(self, deployment_id: int | None = None) -> list[int]:
        """Let a held package (or, with None, every held package) run; the released IDs."""
        body = {} if deployment_id is None else {"deployment_id": deployment_id}
        released: list[int] = self._control("POST", "release", body)["released"]
        return released

    def fail_next(
        self, n: int = 1, message: str = "Deployment failed.", item_status: int = 2
    ) -> None:
        """Make the next ``n`` executed packages fail with ``message`` and ``item_status``."""
        self._control("POST", "fail-next", {"n": n, "message": message, "item_status": item_status})

    # -- helpers for the fixtures -------------------------------------------------------
    def create_workspace(self, identifier: str | None = None, mode: int = 3) -> int:
        """A new workspace owned by the root user (standard mode by default); its ID."""
        from openworks.core.model import Principal
        from openworks.core.projects import NewProject, create_project

        assert self.service is not None, "the server is not running"
        self._workspaces += 1
        identifier = identifier or f"openworks_test_{self._workspaces}"
        account = self.service.settings.account_id
        spec = NewProject(identifier=identifier, name=identifier, mode=mode)
        return create_project(self.service.core, Principal(account, account, "root"), spec)

    def dataworks_client(self) -> Any:
        """The 2020-05-18 Tea SDK client (``alibabacloud_dataworks_public20200518``)."""
        from alibabacloud_dataworks_public20200518.client import Client

        return Client(self._tea_config())

    def dataworks_client_2024(self) -> Any:
        """The 2024-05-18 Tea SDK client (``alibabacloud_dataworks_public20240518``)."""
        from alibabacloud_dataworks_public20240518.client import Client

        return Client(self._tea_config())

    def _tea_config(self) -> Any:
        from alibabacloud_tea_openapi.models import Config

        config = Config(
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            endpoint=self.endpoint,
            region_id=REGION,
        )
        if self.tls:  # the SDK's default, HTTPS, trusting the session's CA
            config.ca = str(self.ca_file)
        else:
            config.protocol = "HTTP"
        return config

    def legacy_dataworks_client(self) -> Any:
        from aliyunsdkcore.client import AcsClient

        verify = str(self.ca_file) if self.tls else None
        client = AcsClient(
            self.access_key_id, self.access_key_secret, REGION, auto_retry=False, verify=verify
        )
        client.add_endpoint(REGION, "dataworks-public", self.endpoint)
        # AcsClient closes its pool only in __del__, which the cyclic GC may run after the
        # pooled sockets warned as unclosed; close the pool as soon as the client goes.
        weakref.finalize(client, client.session.close)
        return client


# -- pytest hooks and fixtures -------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "openworks_tls",
        "start the openworks test server with TLS (clients trust its CA)",
        type="bool",
        default=False,
    )
    parser.getgroup("openworks").addoption(
        "--openworks-tls",
        action="store_true",
        default=False,
        help="start the openworks test server with TLS (clients trust its CA)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "openworks_seed(n): reset the openworks test server with ID seed n before the test",
    )
    if _tls_requested(config):
        # aliyunsdkcore's vendored urllib3 makes every HTTPS connection with deprecated ssl
        # calls (ssl.PROTOCOL_TLS, ssl.match_hostname): silence DeprecationWarning from
        # exactly that package, so that suites run with warnings as errors keep working.
        config.addinivalue_line("filterwarnings", LEGACY_SDK_TLS_WARNING)


def _tls_requested(config: pytest.Config) -> bool:
    return bool(config.getoption("openworks_tls") or config.getini("openworks_tls"))


@pytest.fixture(scope="session")
def _openworks_session_server(request: pytest.FixtureRequest) -> Iterator[OpenworksServer]:
    tls = _tls_requested(request.config)
    with tempfile.TemporaryDirectory(prefix="openworks-test-") as directory:
        server = OpenworksServer(Path(directory), tls=tls)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def openworks_server(
    request: pytest.FixtureRequest, _openworks_session_server: OpenworksServer
) -> OpenworksServer:
    """The session's server, reset to an empty state (mode instant) for this test."""
    marker = request.node.get_closest_marker("openworks_seed")
    seed = int(marker.args[0]) if marker is not None and marker.args else 0
    _openworks_session_server.seed(seed)
    return _openworks_session_server


@pytest.fixture
def dataworks_client(openworks_server: OpenworksServer) -> Any:
    """``alibabacloud_dataworks_public20200518.client.Client`` for the test server."""
    return openworks_server.dataworks_client()


@pytest.fixture
def dataworks_client_2024(openworks_server: OpenworksServer) -> Any:
    """``alibabacloud_dataworks_public20240518.client.Client`` for the test server."""
    return openworks_server.dataworks_client_2024()


@pytest.fixture
def legacy_dataworks_client(openworks_server: OpenworksServer) -> Any:
    """``aliyunsdkcore.client.AcsClient`` with ``dataworks-public`` pointing at the server."""
    return openworks_server.legacy_dataworks_client()


@pytest.fixture
def dataworks_workspace(openworks_server: OpenworksServer) -> int:
    """The ProjectId of a fresh standard-mode workspace (``openworks_test_1``, …)."""
    return openworks_server.create_workspace()
