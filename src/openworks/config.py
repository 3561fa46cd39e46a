"""Server settings, from flags and ``OPENWORKS_*`` environment variables."""

from __future__ import annotations

import ipaddress
import logging
import math
import os
from dataclasses import dataclass

from openworks.errors import ConfigError
from openworks.store.db import default_database_url, is_sqlite

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEV_ACCESS_KEY_ID",
    "DEV_ACCESS_KEY_SECRET",
    "READ_TIMEOUT_RANGE",
    "ConfigError",
    "Settings",
    "configure_logging",
    "env_flag",
    "is_loopback",
]

DEFAULT_ACCOUNT_ID = "1000000000000001"
READ_TIMEOUT_RANGE = (0.1, 3600.0)  # seconds a client may take to send one request
DEV_ACCESS_KEY_ID = "openworks-dev-key"
DEV_ACCESS_KEY_SECRET = "openworks-dev-secret"


def configure_logging(level: str = "info", log_format: str = "text") -> None:
    """One line per record on stderr; Alembic's start-up chatter only from WARNING up.

    ``log_format`` ``json``: one JSON object per line (openworks.logformat).
    """
    if log_format not in ("text", "json"):
        raise ConfigError(f"Unknown log format {log_format!r}: use text or json.")
    from openworks.logformat import JsonFormatter, TextFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler])  # only a process's first
    if log_format == "json":
        for each in logging.getLogger().handlers:
            each.setFormatter(JsonFormatter())
    # The format uses none of the caller's file, thread or process: skip collecting them
    # on every record (the logging HOWTO's "Optimization" section; a few µs a request).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.getLogger("alembic").setLevel(logging.WARNING)


def env_flag(name: str) -> bool:
    """An ``OPENWORKS_*`` on/off variable: 1, true, yes or on (any case) mean on."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8470
    database_url: str = ""
    account_id: str = DEFAULT_ACCOUNT_ID
    access_key_id: str | None = None
    access_key_secret: str | None = None
    max_body_bytes: int = 4 * 1024 * 1024
    # Seconds a client has to send a whole request, headers and body (serving.py, app.py).
    read_timeout: float = 10.0
    run_worker: bool = True
    # Throttling (docs/throttling.md): a preset name or a TOML file, the bound on API
    # requests in flight (0 = none), and Redis for limits shared across processes.
    throttle: str = "off"
    max_inflight: int = 128
    redis_url: str | None = None
    # Test control API under /_openworks/ (issue 9; `serve --control`, OPENWORKS_CONTROL=1).
    control: bool = False
    # Operators (docs/deploy.md, "Monitoring"): who may read GET /metrics (auto, open,
    # token, off; see metrics.exposure), its bearer token, and the log format (text, json).
    metrics: str = "auto"
    metrics_token: str | None = None
    log_format: str = "text"
    # Scale-out (docs/deploy.md): API processes started by this command, and where signature
    # nonces are remembered: "auto" = Redis if configured, else the database when several
    # processes may share it (more than one process, or PostgreSQL), else memory. "database"
    # on an SQLite file is the nonce file beside it (store/nonce_file.py), not a table.
    processes: int = 1
    nonce_store: str = "auto"
    # Seconds to connect to Redis or wait for its answer; past it the call is answered 503
    # ServiceUnavailable (docs/security.md, "Redis outage policy").
    redis_timeout: float = 0.5
    # Extension URLs may resolve to link-local (169.254.0.0/16, fe80::/10) and unspecified
    # (0.0.0.0, ::) addresses only when this is set (docs/security.md, "Extension URL policy").
    extension_allow_any_address: bool = False
    # HTTPS (docs/deploy.md, "HTTPS"; tls.py): a generated local CA and server certificate
    # for the loopback names and tls_names, or the operator's tls_cert/tls_key; the port
    # answers both HTTPS and plain HTTP unless tls_only.
    tls: bool = False
    tls_names: tuple[str, ...] = ()
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_only: bool = False
    # Resource bytes (docs/deploy.md, "Resource blob store"): database, directory or s3;
    # the directory, the S3 bucket/endpoint/key prefix/region; the size bound of one
    # resource; the URL clients reach this server at (download links and upload URLs;
    # default http(s)://host:port, 127.0.0.1 for an any-address host).
    blob_store: str = "database"
    blob_dir: str | None = None
    blob_s3_bucket: str | None = None
    blob_s3_endpoint: str | None = None
    blob_s3_prefix: str = ""
    blob_s3_region: str | None = None
    resource_max_bytes: int = 50 * 1024 * 1024
    public_url: str | None = None

    def __post_init__(self) -> None:
        low, high = READ_TIMEOUT_RANGE
        if not (math.isfinite(self.read_timeout) and low <= self.read_timeout <= high):
            raise ConfigError(
                f"The read timeout must be {low:g} to {high:g} seconds, not {self.read_timeout}."
            )

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "host": env.get("OPENWORKS_HOST", "127.0.0.1"),
            "port": int(env.get("OPENWORKS_PORT", "8470")),
            "database_url": env.get("OPENWORKS_DATABASE_URL") or default_database_url(),
            "account_id": env.get("OPENWORKS_ACCOUNT_ID") or DEFAULT_ACCOUNT_ID,
            "access_key_id": env.get("OPENWORKS_ACCESS_KEY_ID") or None,
            "access_key_secret": env.get("OPENWORKS_ACCESS_KEY_SECRET") or None,
            "throttle": env.get("OPENWORKS_THROTTLE") or "off",
            "max_inflight": int(env.get("OPENWORKS_MAX_INFLIGHT") or "128"),
            "read_timeout": float(env.get("OPENWORKS_READ_TIMEOUT") or "10"),
            "redis_url": env.get("OPENWORKS_REDIS_URL") or None,
            "control": env.get("OPENWORKS_CONTROL", "").lower() in ("1", "true", "yes", "on"),
            "metrics": env.get("OPENWORKS_METRICS") or "auto",
            "metrics_token": env.get("OPENWORKS_METRICS_TOKEN") or None,
            "log_format": env.get("OPENWORKS_LOG_FORMAT") or "text",
            "processes": int(env.get("OPENWORKS_PROCESSES") or "1"),
            "nonce_store": env.get("OPENWORKS_NONCE_STORE") or "auto",
            "redis_timeout": float(env.get("OPENWORKS_REDIS_TIMEOUT") or "0.5"),
            "extension_allow_any_address": env_flag("OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS"),
            "tls": env_flag("OPENWORKS_TLS"),
            "tls_names": tuple(
                n.strip() for n in env.get("OPENWORKS_TLS_NAMES", "").split(",") if n.strip()
            ),
            "tls_cert": env.get("OPENWORKS_TLS_CERT") or None,
            "tls_key": env.get("OPENWORKS_TLS_KEY") or None,
            "tls_only": env_flag("OPENWORKS_TLS_ONLY"),
            "run_worker": env.get("OPENWORKS_RUN_WORKER", "1").lower() not in ("0", "false", "no"),
            "blob_store": env.get("OPENWORKS_BLOB_STORE") or "database",
            "blob_dir": env.get("OPENWORKS_BLOB_DIR") or None,
            "blob_s3_bucket": env.get("OPENWORKS_BLOB_S3_BUCKET") or None,
            "blob_s3_endpoint": env.get("OPENWORKS_BLOB_S3_ENDPOINT") or None,
            "blob_s3_prefix": env.get("OPENWORKS_BLOB_S3_PREFIX") or "",
            "blob_s3_region": env.get("OPENWORKS_BLOB_S3_REGION") or None,
            "resource_max_bytes": int(
                env.get("OPENWORKS_RESOURCE_MAX_BYTES") or str(50 * 1024 * 1024)
            ),
            "public_url": env.get("OPENWORKS_PUBLIC_URL") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The ``OPENWORKS_*`` variables that make :meth:`from_env` rebuild these settings."""
        values = {
            "OPENWORKS_HOST": self.host,
            "OPENWORKS_PORT": str(self.port),
            "OPENWORKS_DATABASE_URL": self.database_url,
            "OPENWORKS_ACCOUNT_ID": self.account_id,
            "OPENWORKS_THROTTLE": self.throttle,
            "OPENWORKS_MAX_INFLIGHT": str(self.max_inflight),
            "OPENWORKS_READ_TIMEOUT": repr(self.read_timeout),
            "OPENWORKS_REDIS_URL": self.redis_url or "",
            "OPENWORKS_CONTROL": "1" if self.control else "",
            "OPENWORKS_METRICS": self.metrics,
            "OPENWORKS_METRICS_TOKEN": self.metrics_token or "",
            "OPENWORKS_LOG_FORMAT": self.log_format,
            "OPENWORKS_PROCESSES": str(self.processes),
            "OPENWORKS_NONCE_STORE": self.nonce_store,
            "OPENWORKS_REDIS_TIMEOUT": repr(self.redis_timeout),
            "OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS": str(int(self.extension_allow_any_address)),
            "OPENWORKS_TLS": "1" if self.tls else "",
            "OPENWORKS_TLS_NAMES": ",".join(self.tls_names),
            "OPENWORKS_TLS_CERT": self.tls_cert or "",
            "OPENWORKS_TLS_KEY": self.tls_key or "",
            "OPENWORKS_TLS_ONLY": "1" if self.tls_only else "",
            "OPENWORKS_RUN_WORKER": "1" if self.run_worker else "0",
            "OPENWORKS_BLOB_STORE": self.blob_store,
            "OPENWORKS_BLOB_DIR": self.blob_dir or "",
            "OPENWORKS_BLOB_S3_BUCKET": self.blob_s3_bucket or "",
            "OPENWORKS_BLOB_S3_ENDPOINT": self.blob_s3_endpoint or "",
            "OPENWORKS_BLOB_S3_PREFIX": self.blob_s3_prefix,
            "OPENWORKS_BLOB_S3_REGION": self.blob_s3_region or "",
            "OPENWORKS_RESOURCE_MAX_BYTES": str(self.resource_max_bytes),
            "OPENWORKS_PUBLIC_URL": self.public_url or "",
        }
        if self.access_key_id and self.access_key_secret:
            values["OPENWORKS_ACCESS_KEY_ID"] = self.access_key_id
            values["OPENWORKS_ACCESS_KEY_SECRET"] = self.access_key_secret
        return values

    def base_url(self) -> str:
        """What clients reach this server at: OPENWORKS_PUBLIC_URL, else from host/port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        scheme = "https" if (self.tls or self.tls_only or self.tls_cert) else "http"
        return f"{scheme}://{host}:{self.port}"

    def resolved_nonce_store(self) -> str:
        """``memory``, ``database`` or ``redis``: where this server remembers nonces
        (``database`` on an SQLite file: the ``<database>-nonces`` file beside it)."""
        if self.nonce_store not in ("auto", "memory", "database", "redis"):
            raise ConfigError(
                f"Unknown nonce store {self.nonce_store!r}: use auto, memory, database or redis."
            )
        if self.nonce_store == "redis" and not self.redis_url:
            raise ConfigError("The redis nonce store needs OPENWORKS_REDIS_URL (--redis-url).")
        if self.nonce_store != "auto":
            return self.nonce_store
        if self.redis_url:
            return "redis"
        shared = self.processes > 1 or not is_sqlite(self.database_url)
        return "database" if shared else "memory"

    def root_key(self) -> tuple[str, str, bool]:
        """The root account's key pair and whether it is the development pair.

        Raises :class:`ConfigError` when no key is configured and the server would listen
        on a non-loopback address.
        """
        if bool(self.access_key_id) != bool(self.access_key_secret):
            raise ConfigError(
                "Set both OPENWORKS_ACCESS_KEY_ID and OPENWORKS_ACCESS_KEY_SECRET, or neither."
            )
        if self.access_key_id and self.access_key_secret:
            return self.access_key_id, self.access_key_secret, False
        if not is_loopback(self.host):
            raise ConfigError(
                f"Refusing to listen on {self.host} with the well-known development key: set "
                "OPENWORKS_ACCESS_KEY_ID and OPENWORKS_ACCESS_KEY_SECRET, or bind to 127.0.0.1."
            )
        return DEV_ACCESS_KEY_ID, DEV_ACCESS_KEY_SECRET, True
