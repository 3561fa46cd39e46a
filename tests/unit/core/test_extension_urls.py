"""Extension URLs: link-local and unspecified addresses are refused, at registration and at
every delivery, unless the operator allows any address; loopback and private ones are fine."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from openworks.core import packages
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.extensions import add_extension, address_kind, refused_address
from openworks.delivery import CheckLoop, post

from .conftest import ROOT
from .test_lifecycle_rules import new_file, workspace

SECRET = "secret-123"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", "link-local"),  # cloud metadata services
        ("169.254.0.1", "link-local"),
        ("169.254.255.255", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),  # 0.0.0.0/8, "this network"
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),  # with a zone, as getaddrinfo gives it
        ("febf:ffff::1", "link-local"),  # the end of fe80::/10
        ("fd00:ec2::254", None),  # AWS' IPv6 metadata address is unique-local, not link-local
        ("::", "unspecified"),
        ("::ffff:169.254.169.254", "link-local"),  # IPv4-mapped
        ("::ffff:0.0.0.0", "unspecified"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("127.0.0.1", None),  # loopback stays allowed: receivers beside the service
        ("127.255.0.1", None),
        ("::1", None),
        ("::ffff:127.0.0.1", None),
        ("10.0.0.1", None),
        ("192.168.1.10", None),
        ("172.16.0.1", None),
        ("8.8.8.8", None),
        ("2001:db8::1", None),
        ("fec0::1", None),
        ("not-an-address", None),
    ],
)
def test_address_kind(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


def test_refused_address_names_host_and_address() -> None:
    assert refused_address("h.test", ["10.0.0.1", "::1"]) is None
    reason = refused_address("h.test", ["10.0.0.1", "169.254.169.254"])  # any one is enough
    assert reason is not None
    assert reason.startswith("h.test resolves to 169.254.169.254, a link-local address")
    assert "OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS=1" in reason
    literal = refused_address("[::]", ["::"])
    assert literal is not None and literal.startswith(":: is an unspecified address")


class FakeResolver:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


RESOLVER = FakeResolver(
    {
        "metadata.test": ["169.254.169.254"],
        "dual.test": ["10.0.0.5", "fe80::1"],
        "mapped.test": ["::ffff:169.254.169.254"],
        "zero.test": ["0.0.0.0"],
        "fine.test": ["127.0.0.1", "::1"],
    }
)


def register(core: Core, code: str, url: str, **kwargs: object) -> None:
    add_extension(core, ROOT, code, "x", ["commit-file"], url, SECRET, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://metadata.test/latest", "metadata.test resolves to 169.254.169.254, a link-local"),
        ("http://dual.test:8080/x", "dual.test resolves to fe80::1, a link-local"),
        ("https://mapped.test/", "resolves to ::ffff:169.254.169.254, a link-local"),
        ("http://zero.test:9/", "zero.test resolves to 0.0.0.0, an unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local"),
        ("http://[fe80::1%25eth0]:80/x", "is a link-local"),  # literal, even unresolvable
        ("http://[::]:8080/", ":: is an unspecified"),
        ("http://0.0.0.0:8080/", "0.0.0.0 is an unspecified"),
    ],
)
def test_registration_refuses(core: Core, url: str, why: str) -> None:
    with pytest.raises(Invalid) as info:
        register(core, "ext", url, resolve=RESOLVER)
    assert info.value.code == "Invalid.Param"
    assert f"The extension URL {url!r} is refused: " in info.value.message
    assert why in info.value.message


@pytest.mark.parametrize(
    "url",
    ["http://2852039166/", "http://0/", "http://[::ffff:a9fe:a9fe]/"],
)
def test_registration_refuses_disguised_literals(core: Core, url: str) -> None:
    """Decimal and short IPv4 forms resolve (without DNS) to the address they hide."""
    with pytest.raises(Invalid) as info:
        register(core, "ext", url)
    assert "refused" in info.value.message


def test_registration_accepts_loopback_private_unresolvable_and_allowed(core: Core) -> None:
    register(core, "a", "http://fine.test:8080/hook", resolve=RESOLVER)
    register(core, "b", "http://127.0.0.1:9/x")  # the system resolver, a literal
    register(core, "c", "http://[::1]:9/x")
    register(core, "d", "http://10.1.2.3/x", resolve=RESOLVER)
    register(core, "e", "http://later.test/x", resolve=RESOLVER)  # checked at delivery
    register(core, "f", "http://metadata.test/x", resolve=RESOLVER, allow_any_address=True)


def test_registration_still_checks_the_url_shape(core: Core) -> None:
    for url in ("ftp://h/x", "http:///x", "http://h:99999/x", "http://[::1/x"):
        with pytest.raises(Invalid) as info:
            register(core, "ext", url)
        assert "must be http(s)://host/" in info.value.message


# -- delivery ---------------------------------------------------------------------------


class Receiver(BaseHTTPRequestHandler):
    hosts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.hosts.append(self.headers["Host"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Receiver.hosts.clear()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join()


BODY = '{"type": "dataworks:FileChange:CommitFile"}'


def test_post_connects_to_the_checked_address(receiver: int) -> None:
    resolve = FakeResolver({"receiver.test": ["127.0.0.1"]})
    url = f"http://receiver.test:{receiver}/hook"
    assert post(url, SECRET, BODY, 1, 5, resolve=resolve) is None
    assert resolve.asked == ["receiver.test"]  # resolved once, by the guarded connection
    assert Receiver.hosts == [f"receiver.test:{receiver}"]  # the name still travels as Host


def test_post_refuses_a_host_that_now_resolves_to_link_local(receiver: int) -> None:
    # 0.0.0.0 reaches this host's listeners on Linux: exactly what must not happen silently
    resolve = FakeResolver({"rebound.test": ["0.0.0.0"]})
    url = f"http://rebound.test:{receiver}/hook"
    error = post(url, SECRET, BODY, 1, 5, resolve=resolve)
    assert error is not None and error.startswith("Refused: rebound.test resolves to 0.0.0.0")
    assert Receiver.hosts == []
    assert post(url, SECRET, BODY, 1, 5, resolve=resolve, allow_any_address=True) is None
    assert len(Receiver.hosts) == 1
    metadata = FakeResolver({"rebound.test": ["169.254.169.254"]})
    error = post(f"https://rebound.test:{receiver}/x", SECRET, BODY, 1, 5, resolve=metadata)
    assert error is not None and "169.254.169.254, a link-local address" in error


def test_check_loop_records_a_refused_delivery(core: Core, receiver: int) -> None:
    ref = workspace(core)
    url = f"http://0.0.0.0:{receiver}/hook"  # registered while allowed, then disallowed
    add_extension(
        core, ROOT, "ext", "x", ["commit-file"], url, SECRET, [ref], allow_any_address=True
    )
    packages.submit_file(core, ROOT, ref, new_file(core, ref), None)
    assert CheckLoop(core, allow_any_address=False).deliver_due() == 1
    with core.store.transaction() as tx:
        [delivery] = tx.checks().due_deliveries(10**15, 10)
    assert (delivery.state, delivery.attempts) == ("PENDING", 1)  # retried with backoff
    assert delivery.last_error.startswith("Refused: 0.0.0.0 is an unspecified address")
    assert Receiver.hosts == []
    assert CheckLoop(core, allow_any_address=True).deliver_due() == 1  # the fake clock ran on
    assert len(Receiver.hosts) == 1  # allowed: 0.0.0.0 reaches the receiver


def test_check_loop_reads_the_setting(monkeypatch: pytest.MonkeyPatch, core: Core) -> None:
    monkeypatch.delenv("OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS", raising=False)
    assert not CheckLoop(core).allow_any_address
    monkeypatch.setenv("OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS", "1")
    assert CheckLoop(core).allow_any_address
