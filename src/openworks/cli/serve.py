"""``openworks serve``: the API server with its package worker."""

from __future__ import annotations

import os
import sys

import click

from openworks.config import ConfigError, Settings, configure_logging

from . import main
from .common import DATABASE_URL, PORT, BoundedInt, Seconds

__all__ = ["serve"]


@main.command()
@click.option("--host", envvar="OPENWORKS_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="OPENWORKS_PORT", default=8470, type=PORT, show_default=True)
@DATABASE_URL
@click.option("--log-level", default="info", show_default=True)
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
    type=Seconds(0.1, 3600),
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
    help="API processes to start on this port (each also runs a package worker unless "
    "--no-worker).",
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
    "configured, else the database when processes may share it, else memory).",
)
def serve(
    host: str,
    port: int,
    database_url: str | None,
    log_level: str,
    throttle: str | None,
    max_inflight: int | None,
    read_timeout: float | None,
    redis_url: str | None,
    control: bool,
    processes: int,
    no_worker: bool,
    nonce_store: str,
) -> None:
    """Run the API server (with the package worker in the same process)."""
    import uvicorn

    from openworks import serving
    from openworks.app import build_service, create_app
    from openworks.store.secrets import ServerKeyMismatch

    configure_logging(log_level)
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
    )
    try:
        service = build_service(settings)
    except ConfigError as err:
        click.echo(f"openworks: {err}", err=True)
        sys.exit(2)
    except ServerKeyMismatch as err:  # another key sealed the secrets: start nothing
        click.echo(f"openworks: {err}; refusing to start", err=True)
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
    if settings.control:
        click.echo("openworks: test control API enabled under /_openworks/ (root key only)")
    click.echo(
        f"openworks: {settings.processes} API process(es), package worker "
        f"{'in each' if settings.run_worker else 'not started (--no-worker)'}, nonces in "
        f"{settings.resolved_nonce_store()}"
    )
    click.echo(f"openworks: listening on http://{host}:{port}")
    if settings.processes == 1:
        app = create_app(service)
        serving.configure(settings.read_timeout)
        uvicorn.run(
            app,
            host=host,
            port=port,
            access_log=False,
            log_level=log_level,
            http=serving.PROTOCOL,
        )
        return
    # Several processes: each child builds its own service from the environment; the
    # migrations and the root key are already in place, done once above.
    service.engine.dispose()
    os.environ.update(settings.to_env())
    uvicorn.run(
        "openworks.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=settings.processes,
        http=serving.PROTOCOL,
        access_log=False,
        log_level=log_level,
    )
