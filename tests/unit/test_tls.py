"""The local certificate authority and server certificate of ``serve --tls`` (tls.py), the
operator's own pair, and the listening socket's one-line errors (cli/serve.py)."""

from __future__ import annotations

import datetime
import os
import socket
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from openworks.cli.serve import ListenError, _listen
from openworks.config import Settings
from openworks.tls import (
    RENEW_BEFORE,
    TlsError,
    ensure_local_certificates,
    normalize_names,
    operator_pair,
    server_context,
    tls_directory,
)


def handshake(ca: Path, cert: Path, key: Path, hostname: str) -> None:
    """A TLS handshake in memory: a strict client trusting only ``ca`` and the server."""
    client = ssl.create_default_context(cafile=str(ca))  # this CA only, no system roots
    client.verify_flags |= ssl.VERIFY_X509_STRICT  # Python 3.13's default
    server = server_context(cert, key)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    c = client.wrap_bio(c_in, c_out, server_hostname=hostname)
    s = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(10):
        for name, side in (("c", c), ("s", s)):
            if not done[name]:
                try:
                    side.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            return
    raise AssertionError("the handshake did not finish")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_names_defaults_first_checked_and_unique() -> None:
    assert normalize_names() == ("localhost", "127.0.0.1", "::1")
    assert normalize_names(["API.Example.com.", "[0:0::1]", "10.0.0.5", "localhost"]) == (
        "localhost",
        "127.0.0.1",
        "::1",
        "api.example.com",
        "10.0.0.5",
    )
    assert normalize_names(["bücher.example"])[-1] == "xn--bcher-kva.example"
    assert normalize_names(["*.svc.example"])[-1] == "*.svc.example"
    for bad in ("bad name", "-x.example", "a..b", "x" * 64 + ".example", ""):
        with pytest.raises(TlsError, match="neither a host name nor an IP address"):
            normalize_names([bad])


def test_made_once_with_private_keys_and_trusted_by_a_strict_client(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    files = ensure_local_certificates(directory, ["openworks.example", "10.1.2.3"])
    assert files.made == ("ca", "server")
    assert files.ca == directory / "ca.pem"
    assert (files.cert, files.key) == (directory / "server.pem", directory / "server.key")
    assert mode(directory) == 0o700
    assert mode(directory / "ca.key") == 0o600 and mode(files.key) == 0o600
    assert mode(files.ca) == 0o644 and mode(files.cert) == 0o644
    assert files.names == ("localhost", "127.0.0.1", "::1", "openworks.example", "10.1.2.3")

    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    leaf = x509.load_pem_x509_certificate(files.cert.read_bytes())
    leaf.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= datetime.timedelta(days=398)

    for hostname in ("localhost", "127.0.0.1", "::1", "openworks.example", "10.1.2.3"):
        handshake(files.ca, files.cert, files.key, hostname)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(files.ca, files.cert, files.key, "elsewhere.example")
    other = ensure_local_certificates(tmp_path / "other")
    assert other.ca is not None
    with pytest.raises(ssl.SSLCertVerificationError):  # another CA: refused
        handshake(other.ca, files.cert, files.key, "localhost")


def test_kept_remade_on_new_names_or_near_expiry_ca_kept(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    first = ensure_local_certificates(directory, ["a.example"])
    assert first.ca is not None
    ca_bytes, cert_bytes = first.ca.read_bytes(), first.cert.read_bytes()

    again = ensure_local_certificates(directory, ["a.example"])
    assert again.made == ()
    assert (first.ca.read_bytes(), first.cert.read_bytes()) == (ca_bytes, cert_bytes)

    renamed = ensure_local_certificates(directory, ["a.example", "b.example"])
    assert renamed.made == ("server",)
    assert first.ca.read_bytes() == ca_bytes and first.cert.read_bytes() != cert_bytes
    assert "b.example" in renamed.names

    later = renamed.not_after - RENEW_BEFORE + datetime.timedelta(days=1)
    renewed = ensure_local_certificates(directory, ["a.example", "b.example"], now=later)
    assert renewed.made == ("server",) and renewed.not_after > renamed.not_after
    assert first.ca.read_bytes() == ca_bytes
    ca = x509.load_pem_x509_certificate(ca_bytes)
    x509.load_pem_x509_certificate(renewed.cert.read_bytes()).verify_directly_issued_by(ca)


def test_damaged_or_loosened_files_are_repaired(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    first = ensure_local_certificates(directory)
    assert first.ca is not None
    ca_bytes = first.ca.read_bytes()
    first.cert.write_text("not a certificate")
    (directory / "ca.key").chmod(0o644)
    repaired = ensure_local_certificates(directory)
    assert repaired.made == ("server",) and first.ca.read_bytes() == ca_bytes
    assert mode(directory / "ca.key") == 0o600
    # a server key that no longer matches its certificate
    other = ensure_local_certificates(tmp_path / "other")
    first.key.write_bytes(other.key.read_bytes())
    assert ensure_local_certificates(directory).made == ("server",)
    # the CA gone: a new one, and a server certificate it signed
    first.ca.unlink()
    fresh = ensure_local_certificates(directory)
    assert fresh.made == ("ca", "server")
    assert fresh.ca is not None
    handshake(fresh.ca, fresh.cert, fresh.key, "localhost")


def test_operator_pair_checked_in_one_line(tmp_path: Path) -> None:
    one = ensure_local_certificates(tmp_path / "one", ["own.example"])
    two = ensure_local_certificates(tmp_path / "two")
    pair = operator_pair(one.cert, one.key)
    assert pair.ca is None and "own.example" in pair.names
    with pytest.raises(TlsError) as mismatch:
        operator_pair(one.cert, two.key)
    assert "cannot use the TLS certificate" in str(mismatch.value)
    assert "\n" not in str(mismatch.value)
    with pytest.raises(TlsError, match="no file"):
        operator_pair(tmp_path / "missing.pem", one.key)


def test_directory_next_to_sqlite_else_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert tls_directory(f"sqlite:///{tmp_path}/db/ow.db") == tmp_path / "db" / "tls"
    data = tmp_path / "xdg" / "openworks" / "tls"
    assert tls_directory("postgresql://u@h/db") == data
    assert tls_directory("sqlite://") == data
    assert tls_directory("sqlite:///:memory:") == data


def test_settings_carry_tls_to_worker_processes() -> None:
    settings = Settings(
        tls=True, tls_names=("a.example", "10.0.0.1"), tls_cert="/c.pem", tls_key="/k.pem"
    )
    env = settings.to_env()
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        again = Settings.from_env()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert (again.tls, again.tls_names, again.tls_cert, again.tls_key, again.tls_only) == (
        True,
        ("a.example", "10.0.0.1"),
        "/c.pem",
        "/k.pem",
        False,
    )


def test_listen_errors_are_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError) as in_use:
            _listen("127.0.0.1", port)
    assert str(in_use.value) == f"cannot listen on 127.0.0.1:{port}: address already in use"
    if socket.has_ipv6:
        with socket.socket(socket.AF_INET6) as taken6:
            taken6.bind(("::1", 0))
            taken6.listen()
            port6 = taken6.getsockname()[1]
            with pytest.raises(ListenError) as in_use6:
                _listen("::1", port6)
        assert str(in_use6.value) == f"cannot listen on [::1]:{port6}: address already in use"
    with pytest.raises(ListenError, match="unknown host"):
        _listen("no-such-host.invalid", 8470)
    sock = _listen("127.0.0.1", 0)
    try:
        assert sock.get_inheritable()
    finally:
        sock.close()
