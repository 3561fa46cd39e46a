"""HTTPS for ``openworks serve --tls``: a local certificate authority, the server's
certificate, and one port that answers both HTTPS and plain HTTP.

The files (``tls_directory``: next to an SQLite database, else the data directory)::

    tls/ca.pem        the local certificate authority: what clients trust (kept for good)
    tls/ca.key        its private key                          (mode 0600)
    tls/server.pem    the server certificate, signed by the CA, for localhost, 127.0.0.1,
                      ::1 and every --tls-name                 (remade when the names
                                                                change or it nears expiry)
    tls/server.key    its private key                          (mode 0600)

One port, two protocols: the official SDKs do not agree on a scheme. The Tea SDKs default
to HTTPS; ``aliyun-python-sdk-core`` requests default to HTTP, except
``ListCheckProcessesRequest`` and ``CallbackExtensionRequest`` of
``aliyun-python-sdk-dataworks-public``, which hard-code HTTPS — and one legacy endpoint
(``host:port``) serves both. :class:`TlsOrHttpProtocol` reads a connection's first byte: a
TLS handshake (0x16) is answered with TLS, anything else as plain HTTP (or refused with 400
when plain HTTP is off, ``--tls-only``). Either way the connection ends up with the same
HTTP protocol as without TLS (``serving.PROTOCOL``, its read timeout and header bound).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import ipaddress
import os
import re
import secrets
import socket
import ssl
from asyncio import sslproto
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import uvicorn
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy.engine import make_url
from uvicorn.importer import import_from_string

from openworks.store.db import normalize_url

__all__ = [
    "DEFAULT_NAMES",
    "PROTOCOL",
    "ServingTls",
    "TlsConfig",
    "TlsError",
    "TlsFiles",
    "TlsOrHttpProtocol",
    "ensure_local_certificates",
    "normalize_names",
    "operator_pair",
    "server_context",
    "tls_directory",
    "trust_hints",
]

DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")
CA_VALIDITY = datetime.timedelta(days=3650)
SERVER_VALIDITY = datetime.timedelta(days=397)  # the longest any client accepts for a leaf
RENEW_BEFORE = datetime.timedelta(days=30)  # a server certificate this close to expiry is remade
_SKEW = datetime.timedelta(minutes=5)  # not-before set back: a client clock slightly behind
# Seconds a closing TLS connection waits for the client's close_notify. asyncio's default,
# 30 s, holds every idle keep-alive connection (a pooled SDK connection never answers) that
# long after the server closed it, and a server shutdown with it.
SHUTDOWN_TIMEOUT = 1.0

_HOSTNAME = re.compile(
    r"^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class TlsError(Exception):
    """TLS cannot be set up; the message says why (one line)."""


@dataclass(frozen=True)
class TlsFiles:
    """The certificate and key the server uses, and the CA clients must trust."""

    cert: Path
    key: Path
    ca: Path | None  # None: an operator's own pair (their CA is theirs to distribute)
    names: tuple[str, ...]
    not_after: datetime.datetime
    made: tuple[str, ...] = field(default=())  # what this call created: "ca", "server"


# -- where and which names ------------------------------------------------------------------


def tls_directory(database_url: str, data_dir: Path | None = None) -> Path:
    """``tls/`` next to an SQLite database file, else in ``$XDG_DATA_HOME/openworks/``."""
    url = make_url(normalize_url(database_url))
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url.query)
    if url.get_backend_name() == "sqlite" and not in_memory:
        return Path(database).expanduser().absolute().parent / "tls"
    if data_dir is None:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        data_dir = Path(base) / "openworks"
    return data_dir / "tls"


def _name(text: str) -> str:
    """A host name (lower-case ASCII, IDNA for others) or an IP address in its short form."""
    raw = text.strip()
    try:
        return str(ipaddress.ip_address(raw.strip("[]")))
    except ValueError:
        pass
    try:
        name = raw.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        name = ""
    if not name or len(name) > 253 or not _HOSTNAME.match(name):
        raise TlsError(f"--tls-name {text!r} is neither a host name nor an IP address")
    return name


def normalize_names(names: Iterable[str] = ()) -> tuple[str, ...]:
    """localhost, 127.0.0.1 and ::1, then the given names: checked, in order, each once."""
    result: list[str] = []
    for text in (*DEFAULT_NAMES, *names):
        name = _name(text)
        if name not in result:
            result.append(name)
    return tuple(result)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _cert_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return (*san.get_values_for_type(x509.DNSName), *ips)


# -- files ------------------------------------------------------------------------------------


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write a whole file under a temporary name, then move it into place in one step."""
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            if hasattr(os, "fchmod"):  # whatever the umask (not on Windows before 3.13)
                os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One process at a time makes or checks the files of a directory."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no concurrent starts to guard against
        yield
        return
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_pair(
    cert_path: Path, key_path: Path
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """A certificate and its private key, or None when missing, unreadable or mismatched."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    return cert, key


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _make_ca(now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    # A name of its own, so that the CAs of several machines never look alike in a trust store.
    label = f"openworks local CA {socket.gethostname()[:32]} {now:%Y-%m-%d} {secrets.token_hex(3)}"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openworks"),
            x509.NameAttribute(NameOID.COMMON_NAME, label[:64]),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_server(
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: tuple[str, ...],
    now: datetime.datetime,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "openworks"),
                    x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
                ]
            )
        )
        .issuer_name(ca.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _SKEW)
        .not_valid_after(min(now + SERVER_VALIDITY, ca.not_valid_after_utc))
        .add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _server_is_current(
    cert: x509.Certificate, ca: x509.Certificate, names: tuple[str, ...], now: datetime.datetime
) -> bool:
    if set(_cert_names(cert)) != set(names):
        return False
    if cert.not_valid_before_utc > now or cert.not_valid_after_utc - now < RENEW_BEFORE:
        return False
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def ensure_local_certificates(
    directory: Path, names: Iterable[str] = (), now: datetime.datetime | None = None
) -> TlsFiles:
    """The local CA and a server certificate for ``names`` (plus the loopback names) in
    ``directory``: made when missing, the server certificate remade when its names differ,
    it expires within 30 days or another CA signed it; the CA kept unless it is missing,
    damaged or expires within 30 days. Key files are mode 0600, the directory 0700."""
    wanted = normalize_names(names)
    now = now or datetime.datetime.now(datetime.UTC)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise TlsError(f"cannot create {directory}: {err.strerror or err}") from None
    ca_pem, ca_key_pem = directory / "ca.pem", directory / "ca.key"
    cert_pem, key_pem = directory / "server.pem", directory / "server.key"
    made: list[str] = []
    try:
        with _locked(directory):
            ca_pair = _read_pair(ca_pem, ca_key_pem)
            if ca_pair is None or ca_pair[0].not_valid_after_utc - now < RENEW_BEFORE:
                ca_pair = _make_ca(now)
                _write(ca_key_pem, _pem_key(ca_pair[1]), 0o600)
                _write(ca_pem, ca_pair[0].public_bytes(serialization.Encoding.PEM), 0o644)
                made.append("ca")
            ca, ca_key = ca_pair
            server = _read_pair(cert_pem, key_pem)
            if server is None or not _server_is_current(server[0], ca, wanted, now):
                server = _make_server(ca, ca_key, wanted, now)
                _write(key_pem, _pem_key(server[1]), 0o600)
                _write(cert_pem, server[0].public_bytes(serialization.Encoding.PEM), 0o644)
                made.append("server")
            for private in (ca_key_pem, key_pem):  # files made by hand or by an older copy
                if private.stat().st_mode & 0o077:
                    private.chmod(0o600)
    except OSError as err:
        reason = err.strerror or err
        raise TlsError(f"cannot write the TLS files in {directory}: {reason}") from None
    return TlsFiles(
        cert=cert_pem,
        key=key_pem,
        ca=ca_pem,
        names=wanted,
        not_after=server[0].not_valid_after_utc,
        made=tuple(made),
    )


def operator_pair(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> TlsFiles:
    """An operator's own certificate (PEM, may hold the chain) and key, checked to load."""
    cert_path, key_path = Path(cert).expanduser(), Path(key).expanduser()
    server_context(cert_path, key_path)  # raises TlsError with the reason
    try:
        leaf = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError) as err:
        raise TlsError(f"cannot read --tls-cert {cert_path}: {err}") from None
    return TlsFiles(
        cert=cert_path,
        key=key_path,
        ca=None,
        names=_cert_names(leaf),
        not_after=leaf.not_valid_after_utc,
    )


def server_context(cert: str | os.PathLike[str], key: str | os.PathLike[str]) -> ssl.SSLContext:
    """The server side of TLS 1.2+ with this certificate (chain) and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols(["http/1.1"])
    try:
        context.load_cert_chain(os.fspath(cert), os.fspath(key))
    except FileNotFoundError as err:
        raise TlsError(f"cannot use the TLS certificate: no file {err.filename}") from None
    except (OSError, ssl.SSLError) as err:
        reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or str(err)
        raise TlsError(
            f"cannot use the TLS certificate {os.fspath(cert)} with the key {os.fspath(key)}: "
            f"{reason}"
        ) from None
    return context


def trust_hints(ca: Path) -> list[str]:
    """How each client trusts the CA (measured with the SDKs in tests/sdk/test_tls.py)."""
    return [
        f"Tea SDKs (alibabacloud_*): Config(ca='{ca}') or SSL_CERT_FILE={ca}",
        f"aliyun-python-sdk-core: AcsClient(..., verify='{ca}') or ALIBABA_CLOUD_CA_BUNDLE={ca}",
        f"Node.js SDKs: NODE_EXTRA_CA_CERTS={ca}; curl: --cacert {ca}",
    ]


# -- serving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServingTls:
    """What a server process needs to answer TLS (picklable: worker processes get it)."""

    cert: str
    key: str
    plain_http: bool = True


class TlsConfig(uvicorn.Config):
    """uvicorn's settings plus :class:`ServingTls`, read by :class:`TlsOrHttpProtocol`.

    uvicorn's own ``ssl_certfile`` would make every connection TLS; this keeps uvicorn's
    listener plain and lets the protocol decide per connection."""

    def __init__(self, app: Any, *, tls: ServingTls, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.openworks_tls = tls


@functools.cache
def _context(cert: str, key: str) -> ssl.SSLContext:
    return server_context(cert, key)  # once per process and pair


@functools.cache
def _http_class() -> Callable[..., asyncio.Protocol]:
    from openworks import serving

    cls: Callable[..., asyncio.Protocol] = import_from_string(serving.PROTOCOL)
    return cls


_PLAIN_BODY = b"This port speaks HTTPS only: use https://.\n"
_PLAIN_REFUSED = (
    b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
    + b"content-length: %d\r\nconnection: close\r\n\r\n" % len(_PLAIN_BODY)
    + _PLAIN_BODY
)


class TlsOrHttpProtocol(asyncio.Protocol):
    """A connection's first byte decides: TLS handshake → TLS, else plain HTTP.

    Until then the connection counts as one of the server's (so a shutdown closes it) and
    has the HTTP read timeout to send anything. Afterwards this object steps aside: the
    transport talks to asyncio's TLS protocol, or directly to the HTTP protocol."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not isinstance(config, TlsConfig):
            raise TypeError("TlsOrHttpProtocol needs a TlsConfig")
        self._tls = config.openworks_tls
        self._context = _context(self._tls.cert, self._tls.key)
        self._http = functools.partial(
            _http_class(),
            config=config,
            server_state=server_state,
            app_state=app_state,
            _loop=_loop,
        )
        self._connections: set[Any] = server_state.connections
        self._loop = _loop or asyncio.get_event_loop()
        self._timeout = float(getattr(_http_class(), "read_timeout", 10.0))
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self._transport = cast(asyncio.Transport, transport)
        self._connections.add(self)
        self._timer = self._loop.call_later(self._timeout, transport.close)

    def _step_aside(self) -> asyncio.Transport:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._connections.discard(self)
        assert self._transport is not None
        transport, self._transport = self._transport, None
        return transport

    def data_received(self, data: bytes) -> None:
        if self._transport is None or not data:
            return
        transport = self._step_aside()
        if data[0] == 0x16:  # TLS record type "handshake"
            # No waiter: nobody awaits the handshake (typeshed wants a Future; None is how
            # asyncio itself says so).
            make_tls: Callable[..., sslproto.SSLProtocol] = sslproto.SSLProtocol
            tls = make_tls(
                self._loop,
                self._http(),
                self._context,
                None,
                server_side=True,
                ssl_handshake_timeout=self._timeout,
                ssl_shutdown_timeout=SHUTDOWN_TIMEOUT,
            )
            transport.set_protocol(tls)
            tls.connection_made(transport)
            view = memoryview(data)
            while view:  # hand the bytes already read to the TLS protocol
                buffer = tls.get_buffer(len(view))
                size = min(len(buffer), len(view))
                buffer[:size] = view[:size]
                tls.buffer_updated(size)
                view = view[size:]
        elif self._tls.plain_http:
            http = self._http()
            transport.set_protocol(http)
            http.connection_made(transport)
            http.data_received(data)
        else:
            transport.write(_PLAIN_REFUSED)
            transport.close()

    def eof_received(self) -> bool | None:
        return None  # nothing was said: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._step_aside()

    def shutdown(self) -> None:
        """uvicorn's shutdown: a connection that has not said which protocol just closes."""
        if self._transport is not None:
            self._step_aside().close()


PROTOCOL = "openworks.tls:TlsOrHttpProtocol"
"""What a :class:`TlsConfig` takes as ``http`` (an import string: worker processes import it)."""
