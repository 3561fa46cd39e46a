"""``openworks serve``: the API server with its package worker."""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import TYPE_CHECKING

import click

from openworks.config import (
    READ_TIMEOUT_RANGE,
    ConfigError,
    Settings,
    configure_logging,
    is_loopback,
)

from . import main
from .common import DATABASE_URL, LOG_FORMAT, PORT, BoundedInt, Seconds
from .listening import ListenError, listen_sockets
from .listening import address as _address
from .listening import listen as _listen  # noqa: F401  (the one socket; tests use it)
from .startup import collector_paused

if TYPE_CHECKING:
    import uvicorn

    from openworks.tls import TlsFiles

__all__ = ["serve"]


@main.command()
@click.option("--host", envvar="OPENWORKS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="OPENWORKS_PORT", default=8470, type=PORT, show_default=True)
@DATABASE_URL
@click.option("--log-level", default="info", show_default=True)
@LOG_FORMAT
@click.option(
    "--metrics",
    envvar="OPENWORKS_METRICS",
    type=click.Choice(["auto", "open", "token", "off"]),
    default="auto",
    show_default=True,
    help="Who may read GET /metrics: open, token (Authorization: Bearer "
    "$OPENWORKS_METRICS_TOKEN, 16+ characters) or off. auto: token if that variable is "
    "set, else open on a loopback address and off on any other. See docs/deploy.md.",
)
@click.option(
    "--throttle",
    envvar="OPENWORKS_THROTTLE",
    default=None,
    help="Rate limits: off (default), basic, standard, professional, enterprise, or the "
    "path of a TOML file. See docs/throttling.md.",
)
@click.option(
    "--max-inflight",
    envvar="OPENWORKS_MAX_INFLIGHT",
    default=None,
    type=BoundedInt(32, minimum=0),
    help="API requests processed at once before answering Throttling.System (0 = no "
    "bound). Default 128.",
)
@click.option(
    "--read-timeout",
    envvar="OPENWORKS_READ_TIMEOUT",
    default=None,
    type=Seconds(*READ_TIMEOUT_RANGE),
    help="Seconds a client has to send a whole request, headers and body, before the "
    "server answers 408 and closes the connection. Default 10.",
)
@click.option(
    "--redis-url",
    envvar="OPENWORKS_REDIS_URL",
    default=None,
    help="Redis for rate limits shared by several server processes (redis://host:6379/0).",
)
@click.option(
    "--control",
    is_flag=True,
    envvar="OPENWORKS_CONTROL",
    default=False,
    help="Enable the test-control API under /_openworks/ (reset, modes, forced failures; "
    "root AccessKey as HTTP Basic credentials). For test servers only.",
)
@click.option(
    "--workers",
    "processes",
    envvar="OPENWORKS_PROCESSES",
    default=1,
    show_default=True,
    type=BoundedInt(32, minimum=1),
    help="API processes to start on this port. The package worker (unless --no-worker) is "
    "a thread in each on SQLite, one process of its own beside them on PostgreSQL.",
)
@click.option(
    "--no-worker",
    is_flag=True,
    default=False,
    help="Serve the API only; run `openworks worker` elsewhere to execute packages.",
)
@click.option(
    "--nonce-store",
    envvar="OPENWORKS_NONCE_STORE",
    type=click.Choice(["auto", "memory", "database", "redis"]),
    default="auto",
    show_default=True,
    help="Where signature nonces are remembered for replay protection (auto: Redis if "
    "configured, else the database when processes may share it, else memory; the "
    "database of an SQLite file keeps them in a file beside it, DATABASE-nonces).",
)
@click.option(
    "--tls",
    is_flag=True,
    envvar="OPENWORKS_TLS",
    default=False,
    help="Answer HTTPS (and plain HTTP) on the port, with a local certificate authority "
    "and server certificate made once in the data directory. See docs/deploy.md, HTTPS.",
)
@click.option(
    "--tls-name",
    "tls_names",
    multiple=True,
    metavar="NAME",
    help="Another host name or IP address for the generated certificate (repeatable; "
    "localhost, 127.0.0.1 and ::1 are always in it). Implies --tls.",
)
@click.option(
    "--tls-cert",
    envvar="OPENWORKS_TLS_CERT",
    default=None,
    metavar="PEM",
    help="Your own server certificate (PEM, with its chain) instead of the generated "
    "one; needs --tls-key. Implies --tls.",
)
@click.option(
    "--tls-key",
    envvar="OPENWORKS_TLS_KEY",
    default=None,
    metavar="PEM",
    help="The private key of --tls-cert (PEM, unencrypted).",
)
@click.option(
    "--tls-only",
    is_flag=True,
    envvar="OPENWORKS_TLS_ONLY",
    default=False,
    help="Refuse plain HTTP on the port (400) instead of answering it next to HTTPS. "
    "Implies --tls.",
)
@click.option(
    "--blob-store",
    envvar="OPENWORKS_BLOB_STORE",
    default="database",
    show_default=True,
    type=click.Choice(["database", "directory", "s3"]),
    help='Where resource bytes live (docs/deploy.md, "Resource blob store"); s3 reads '
    "OPENWORKS_BLOB_S3_BUCKET/_ENDPOINT/_PREFIX/_REGION.",
)
@click.option(
    "--blob-dir",
    envvar="OPENWORKS_BLOB_DIR",
    default=None,
    metavar="DIR",
    help="The directory of --blob-store directory.",
)
@click.option(
    "--public-url",
    envvar="OPENWORKS_PUBLIC_URL",
    default=None,
    metavar="URL",
    help="The URL clients reach this server at, for resource download links (default "
    "http(s)://HOST:PORT).",
)
def serve(
    host: str,
    port: int,
    database_url: str | None,
    log_level: str,
    log_format: str,
    metrics: str,
    throttle: str | None,
    max_inflight: int | None,
    read_timeout: float | None,
    redis_url: str | None,
    control: bool,
    processes: int,
    no_worker: bool,
    nonce_store: str,
    tls: bool,
    tls_names: tuple[str, ...],
    tls_cert: str | None,
    tls_key: str | None,
    tls_only: bool,
    blob_store: str,
    blob_dir: str | None,
    public_url: str | None,
) -> None:
    """Run the API server with the package worker (SQLite: a thread in the API process;
    PostgreSQL: a process of its own)."""
    with collector_paused(freeze=True):  # the server's modules: cli/startup.py
        import uvicorn

        from openworks import serving
        from openworks.logformat import uvicorn_log_config
        from openworks.metrics import describe_exposure, prepare_multiprocess
        from openworks.server import build_service, create_app
        from openworks.store.db import is_sqlite
        from openworks.store.secrets import ServerKeyMismatch

    configure_logging(log_level, log_format)
    settings = Settings.from_env(
        host=host,
        port=port,
        database_url=database_url,
        throttle=throttle,
        max_inflight=max_inflight,
        read_timeout=read_timeout,
        redis_url=redis_url,
        control=control or None,
        processes=processes,
        run_worker=False if no_worker else None,
        nonce_store=nonce_store,
        metrics=metrics,
        log_format=log_format,
        tls=tls or None,
        tls_names=tls_names or None,
        tls_cert=tls_cert,
        tls_key=tls_key,
        tls_only=tls_only or None,
        blob_store=blob_store,
        blob_dir=blob_dir,
        public_url=public_url,
    )
    # PostgreSQL: the worker as a process of its own (cli/worker_process.py), not a thread
    # in each API process
    worker_apart = settings.run_worker and not is_sqlite(settings.database_url)
    if worker_apart:
        settings = dataclasses.replace(settings, run_worker=False)
    certificates = _prepare_tls(settings)
    try:
        service = build_service(settings)
    except ConfigError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    except ServerKeyMismatch as err:  # another key sealed the secrets: start nothing
        click.echo(f"openworks: {err}; refusing to start", err=True)
        sys.exit(2)
    # Bind before announcing anything: a port in use is one line and exit 2, not a
    # "listening on" followed by uvicorn's error. Several processes: a socket each.
    try:
        sockets = listen_sockets(host, port, settings.processes)
    except ListenError as err:
        service.engine.dispose()
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    click.echo(f"openworks: database {service.engine.url.render_as_string(hide_password=True)}")
    if service.dev_key:
        click.echo(
            "openworks: development AccessKey (loopback only): "
            f"AccessKeyId={settings.root_key()[0]} AccessKeySecret={settings.root_key()[1]}"
        )
    else:
        click.echo(
            f"openworks: root AccessKeyId {service.root_key_id} (account {settings.account_id})"
        )
    click.echo(
        f"openworks: throttling {settings.throttle}, at most {settings.max_inflight or 'any'} "
        "API requests in flight" + (" (limits shared through Redis)" if settings.redis_url else "")
    )
    click.echo(f"openworks: {describe_exposure(settings)}")
    where = {"directory": settings.blob_dir, "s3": settings.blob_s3_bucket}.get(settings.blob_store)
    click.echo(
        f"openworks: resource bytes in the {settings.blob_store} blob store"
        + (f" ({where})" if where else "")
        + f", at most {settings.resource_max_bytes} bytes each"
    )
    if settings.control:
        click.echo("openworks: test control API enabled under /_openworks/ (root key only)")
    click.echo(
        f"openworks: {settings.processes} API process(es), package worker "
        f"{_worker_where(settings.run_worker, worker_apart)}, nonces in "
        f"{settings.resolved_nonce_store()}"
    )
    if certificates is not None:
        for line in _describe_tls(certificates):
            click.echo(f"openworks: {line}")
        if certificates.ca is not None and not settings.tls_names and not is_loopback(host):
            click.echo(
                f"openworks: clients that reach {host} by another name or address need it in "
                "the certificate: --tls-name NAME (repeatable)"
            )
    scheme = "https" if certificates is not None else "http"
    both = " (HTTPS and plain HTTP)" if certificates is not None and not settings.tls_only else ""
    click.echo(f"openworks: listening on {scheme}://{_address(host, port)}{both}")
    options: dict[str, object] = {
        "host": host,
        "port": port,
        "access_log": False,
        "log_level": log_level,
        "http": serving.PROTOCOL,
        "timeout_keep_alive": serving.KEEP_ALIVE_SECONDS,
        "log_config": uvicorn_log_config(settings.log_format),
    }
    if settings.processes == 1:
        app: object = create_app(service)
        serving.configure(settings.read_timeout)
    else:
        # Several processes: each child builds its own service from the environment; the
        # migrations and the root key are already in place, done once above.
        service.engine.dispose()
        os.environ.update(settings.to_env())
        os.environ[_LOG_LEVEL] = log_level
        prepare_multiprocess()  # the processes' counters summed in /metrics (metrics.py)
        app = "openworks.cli.serve:process_app"
        options.update(factory=True, workers=settings.processes)
    config = _uvicorn_config(app, options, certificates, plain_http=not settings.tls_only)
    worker_process = None
    if worker_apart:
        from .worker_process import WorkerProcess

        env = {**os.environ, **settings.to_env()}
        worker_process = WorkerProcess(settings.database_url, env, log_level)
        worker_process.start()
    try:
        if settings.processes == 1:
            server = uvicorn.Server(config)
            server.run(sockets=sockets)
            if not server.started:
                sys.exit(3)  # uvicorn's STARTUP_FAILURE; the lifespan logged why
        elif len(sockets) > 1:
            from .processes import SpreadProcesses

            SpreadProcesses(config, sockets, host).run()
        else:  # no SO_REUSEPORT spreading here: all share the one socket
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=sockets).run()
    except KeyboardInterrupt:
        pass
    finally:
        if worker_process is not None:
            worker_process.stop()
        for sock in sockets:
            sock.close()


def _worker_where(in_process: bool, apart: bool) -> str:
    if apart:
        return "in a process of its own"
    return "in each" if in_process else "not started (--no-worker)"


_LOG_LEVEL = "OPENWORKS_LOG_LEVEL"


def process_app() -> object:
    """ASGI factory of each process of ``serve --workers N``: the app of
    ``openworks.server.app_from_env``, logging at the ``--log-level`` given to ``serve``."""
    import logging

    from openworks.server import app_from_env

    app = app_from_env()
    logging.getLogger().setLevel(os.environ.get(_LOG_LEVEL, "info").upper())
    return app


def _prepare_tls(settings: Settings) -> TlsFiles | None:
    """The certificate and key to serve, made or checked now; None without TLS (and then
    ``openworks.tls``, with its cryptography imports, is not loaded). A
    :class:`~openworks.tls.TlsError` is one line and exit 2."""
    tls_options = (settings.tls, settings.tls_names, settings.tls_only)
    if not any((*tls_options, settings.tls_cert, settings.tls_key)):
        return None
    from openworks.tls import TlsError

    try:
        return _tls_files(settings)
    except TlsError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)


def _tls_files(settings: Settings) -> TlsFiles:
    from openworks import tls
    from openworks.tls import TlsError

    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise TlsError("--tls-cert and --tls-key go together: give both, or neither")
        if settings.tls_names:
            raise TlsError(
                "--tls-name names the generated certificate; with --tls-cert the names are "
                "your certificate's own"
            )
        return tls.operator_pair(settings.tls_cert, settings.tls_key)
    directory = tls.tls_directory(settings.database_url)
    return tls.ensure_local_certificates(directory, settings.tls_names)


def _describe_tls(files: TlsFiles) -> list[str]:
    from openworks import tls

    until = f"{files.not_after:%Y-%m-%d}"
    if files.ca is None:
        return [
            f"TLS certificate {files.cert} (your own; for {', '.join(files.names) or '?'}; "
            f"valid until {until}), key {files.key}"
        ]
    ca_state = "made now" if "ca" in files.made else "kept"
    cert_state = "made now" if "server" in files.made else "kept"
    lines = [
        f"TLS certificate authority {files.ca} ({ca_state}); clients must trust it:",
        *(f"  {hint}" for hint in tls.trust_hints(files.ca)),
        f"TLS server certificate {files.cert} ({cert_state}) for {', '.join(files.names)}, "
        f"valid until {until}",
    ]
    return lines


def _uvicorn_config(
    app: object, options: dict[str, object], files: TlsFiles | None, *, plain_http: bool
) -> uvicorn.Config:
    import uvicorn

    if files is None:
        return uvicorn.Config(app, **options)  # type: ignore[arg-type]
    from openworks import tls

    serving = tls.ServingTls(str(files.cert), str(files.key), plain_http=plain_http)
    options = {**options, "http": tls.PROTOCOL}
    return tls.TlsConfig(app, tls=serving, **options)
