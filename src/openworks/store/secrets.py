"""The server key and what it protects: AccessKey secrets at rest, STS token integrity.

Where the key comes from, first match wins::

    OPENWORKS_SECRET_KEY (any text of 32+ characters, e.g. `openssl rand -base64 32`)
    key file, created on first use with mode 0600:
        SQLite file database      <database file>.key          (next to the database)
        PostgreSQL, memory SQLite $XDG_DATA_HOME/openworks/server.key  (the data directory)

Sub-keys are derived with HKDF-SHA256 per purpose, so the secret-sealing key and the STS
keys never coincide. A sealed secret is::

    "ow1:" <key id: 8 hex> ":" base64url(nonce 12 bytes ‖ AES-256-GCM ciphertext ‖ tag)

with the AccessKey ID as associated data: a sealed value moved to another row does not open.
A database copy without the key reveals no secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import make_url

from .db import normalize_url

__all__ = [
    "PREFIX",
    "SecretBox",
    "SecretError",
    "ServerKeyMismatch",
    "key_file_for",
    "load_server_key",
]

PREFIX = "ow1:"
_MIN_ENV_KEY = 32


class SecretError(Exception):
    """A sealed value cannot be opened (wrong server key, damaged or moved value)."""


class ServerKeyMismatch(SecretError):
    """The server key in use does not open the secrets already in the database: this
    server must not start (it would answer InvalidAccessKeyId for every stored key) and
    must write nothing (a secret it sealed would not open on the hosts with the right key).
    """

    def __init__(self, found: str, mine: str) -> None:
        self.found = found
        self.mine = mine
        super().__init__(
            "the server key does not open the secrets in this database "
            "(OPENWORKS_SECRET_KEY, or the key file, differs from the one that sealed them: "
            f"they are sealed with server key {found}, this server has key {mine})"
        )


def _hkdf(key: bytes, purpose: str, length: int = 32) -> bytes:
    prk = hmac.new(b"openworks-server-key", key, hashlib.sha256).digest()
    return hmac.new(prk, purpose.encode() + b"\x01", hashlib.sha256).digest()[:length]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Seals and opens secrets with keys derived from one server key."""

    def __init__(self, server_key: bytes) -> None:
        if len(server_key) < 16:
            raise ValueError("the server key is too short")
        self._aead = AESGCM(_hkdf(server_key, "access-key-secrets"))
        self.key_id = hashlib.sha256(_hkdf(server_key, "key-id")).hexdigest()[:8]
        self._sts_mac = _hkdf(server_key, "sts-token-mac")
        self._sts_secret = _hkdf(server_key, "sts-secret")

    def seal(self, plaintext: str, bound_to: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), bound_to.encode())
        return f"{PREFIX}{self.key_id}:{_b64(nonce + sealed)}"

    def open(self, value: str, bound_to: str) -> str:
        if not value.startswith(PREFIX):
            raise SecretError("the value is not sealed")
        key_id, _, body = value[len(PREFIX) :].partition(":")
        if key_id != self.key_id:
            raise SecretError(
                f"sealed with server key {key_id}, but this server has key {self.key_id}"
            )
        try:
            raw = _unb64(body)
            return self._aead.decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
        except (InvalidTag, ValueError) as err:
            raise SecretError("the sealed value is damaged or belongs to another key") from err

    def mac(self, data: bytes) -> bytes:
        """HMAC-SHA256 for STS tokens."""
        return hmac.new(self._sts_mac, data, hashlib.sha256).digest()

    def derived_secret(self, key_id: str) -> str:
        """The secret of a temporary AccessKey, recomputed from its ID (never stored)."""
        return _b64(hmac.new(self._sts_secret, key_id.encode(), hashlib.sha256).digest())[:30]


def key_file_for(database_url: str, data_dir: Path | None = None) -> Path:
    """Where the generated key of a database lives (see the module docstring)."""
    url = make_url(normalize_url(database_url))
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(url.query)
    if url.get_backend_name() == "sqlite" and not in_memory:
        return Path(database).expanduser().with_name(Path(database).name + ".key")
    if data_dir is None:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        data_dir = Path(base) / "openworks"
    return data_dir / "server.key"


def _read_or_create(path: Path) -> bytes:
    """The key in ``path``, created if missing. The key is written to a private file first
    and linked into place in one step, so a process starting at the same moment reads
    either nothing (and races to link its own, losing) or the whole key, never a file
    that is still empty."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(secrets.token_bytes(32))
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:  # another process won the race: its key is complete
            return path.read_bytes().strip()
    finally:
        draft.unlink(missing_ok=True)
    return key


def load_server_key(database_url: str, environ: dict[str, str] | None = None) -> bytes:
    """The server key for a database: the environment, else its key file (created once)."""
    env = os.environ if environ is None else environ
    text = env.get("OPENWORKS_SECRET_KEY")
    if text:
        if len(text) < _MIN_ENV_KEY:
            raise ValueError(f"OPENWORKS_SECRET_KEY must be at least {_MIN_ENV_KEY} characters")
        return text.encode()
    return _read_or_create(key_file_for(database_url))
