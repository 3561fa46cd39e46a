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

__all__ = ["PREFIX", "SecretBox", "SecretError", "key_file_for", "load_server_key"]

PREFIX = "ow1:"
_MIN_ENV_KEY = 32


class SecretError(Exception):
    """A sealed value cannot be opened (wrong server key, damaged or moved value)."""


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
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = base64.b64encode(secrets.token_bytes(32))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
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
