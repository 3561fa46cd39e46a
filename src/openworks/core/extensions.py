"""External extensions: registration, the event message they receive, the outbox.

An extension binds to events of the account's workspaces (all, or the listed ones)::

    commit-file  dataworks:FileChange:CommitFile   SubmitFile, basic-mode DeployFile commit
    deploy-file  dataworks:FileChange:DeployFile   DeployFile
    delete-file  dataworks:FileChange:DeleteFile   DeleteFile

For every matching package item the service sends one CloudEvents-style message (built by
:func:`event_message`) through the outbox::

    PENDING ──2xx──▶ DELIVERED
       │ refused / unreachable: attempts+1, next try after 0.25 s·2^(n-1) (at most 60 s)
       └── the check was answered or timed out, or the extension was removed ─▶ ABANDONED

Extension URLs: loopback and private addresses are fine (receivers often run beside the
service), but a host that is, or resolves to, a link-local address (169.254.0.0/16 where
cloud metadata services answer, fe80::/10) or an unspecified one (0.0.0.0/8, ``::``),
IPv4-mapped and NAT64 forms included, is refused at registration and again at every
delivery (DNS may change in between), unless the operator sets
``OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS=1`` (:func:`refused_address`).
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

from .access import ProjectRef, resolve_project
from .check_ports import CheckEvent, CheckRun, Delivery, Extension, RunStatus
from .context import Core
from .errors import Invalid, NotFound
from .model import ChangeType, File, FileVersion, Package, Principal, Project
from .ports import Page

__all__ = [
    "ALLOW_ANY_ADDRESS_ENV",
    "EVENTS",
    "EventInfo",
    "Resolver",
    "add_extension",
    "address_kind",
    "claim_deliveries",
    "event_message",
    "finish_delivery",
    "get_extension",
    "list_extensions",
    "refused_address",
    "remove_extension",
    "resolve_host",
]

REGION = "openworks"
LEASE_MS = 30_000
BACKOFF_FIRST_MS, BACKOFF_MAX_MS = 250, 60_000
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class EventInfo(NamedTuple):
    type: str
    name_en: str
    name_zh: str


EVENTS: dict[str, EventInfo] = {
    "commit-file": EventInfo("dataworks:FileChange:CommitFile", "File commit", "文件提交"),
    "deploy-file": EventInfo("dataworks:FileChange:DeployFile", "File deployment", "文件发布"),
    "delete-file": EventInfo("dataworks:FileChange:DeleteFile", "File deletion", "文件删除"),
}
_CHANGE_CODES = {ChangeType.CREATE: "0", ChangeType.UPDATE: "1", ChangeType.DELETE: "2"}


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _plain(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def event_message(
    event: CheckEvent,
    run: CheckRun,
    project: Project,
    package: Package,
    file: File,
    version: FileVersion,
) -> str:
    """The JSON body POSTed to an extension (exactly these bytes are signed and resent)."""
    data: dict[str, object] = {
        "eventCode": event.event_code,
        "extensionBizId": str(event.id),
        "blockBusiness": True,
        "operator": event.operator,
        "tenantId": project.account_id,
        "projectId": project.id,
        "fileId": file.id,
        "fileName": version.name,
        "fileType": version.file_type,
        "fileOwner": version.owner,
        "fileCreateTime": _plain(file.create_time),
        "resourceType": "FILE",
        "nodeId": version.node_id,
        "deploymentId": package.id,
        "checkerInstanceId": run.checker_instance_id,
    }
    if event.event_code != "delete-file":
        data["changeType"] = _CHANGE_CODES.get(ChangeType(version.change_type), "1")
        data["fileVersion"] = version.version
        data["dataSourceName"] = file.connection_name or ""
    envelope = {
        "specversion": "1.0",
        "id": event.message_id,
        "source": "acs.dataworks",
        "type": EVENTS[event.event_code].type,
        "subject": f"acs.dataworks:{REGION}:{project.account_id}:{project.id}/file/{file.id}",
        "time": _iso(event.create_time),
        "datacontenttype": "application/json;charset=utf-8",
        "aliyunaccountid": project.account_id,
        "aliyunpublishtime": _iso(event.create_time),
        "aliyuneventbusname": "default",
        "aliyunregionid": REGION,
        "aliyunpublishaddr": "openworks",
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


# -- registration -----------------------------------------------------------------------

ALLOW_ANY_ADDRESS_ENV = "OPENWORKS_EXTENSION_ALLOW_ANY_ADDRESS"
Resolver = Callable[[str], Sequence[str]]  # host name -> IP addresses (text)
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # "this host on this network" (RFC 1122)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 embedded in IPv6 (RFC 6052)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` names, as the system resolver gives them (IP literals too)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(address: str) -> str | None:
    """``"link-local"`` or ``"unspecified"`` for an address extensions may not reach."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or (isinstance(ip, ipaddress.IPv4Address) and ip in _THIS_NETWORK):
        return "unspecified"
    return None


def refused_address(host: str, addresses: Sequence[str]) -> str | None:
    """Why ``host`` (resolved to ``addresses``) may not receive events, or ``None``."""
    for address in addresses:
        kind = address_kind(address)
        if kind is not None:
            named = host.strip("[]")
            where = f"{named} is" if named == address else f"{host} resolves to {address},"
            article = "an" if kind[0] in "aeiou" else "a"
            return (
                f"{where} {article} {kind} address; extensions may not reach link-local or "
                f"unspecified addresses unless {ALLOW_ANY_ADDRESS_ENV}=1 is set"
            )
    return None


def _check_host(url: str, host: str, resolve: Resolver) -> None:
    reason = refused_address(host, [host])  # an IP literal, even one that cannot resolve
    if reason is None:
        try:
            addresses = resolve(host)
        except (OSError, UnicodeError):
            return  # not resolvable now: every delivery resolves (and checks) it again
        reason = refused_address(host, addresses)
    if reason is not None:
        raise Invalid("Invalid.Param", f"The extension URL {url!r} is refused: {reason}.")


def _validate(code: str, name: str, events: Sequence[str], url: str, secret: str) -> None:
    if not _CODE.fullmatch(code):
        raise Invalid(
            "Invalid.Param",
            "An extension code is 1-64 letters, digits, '_', '.' or '-', starting with a letter "
            f"or digit (got {code!r}).",
        )
    if not name.strip() or len(name) > 128:
        raise Invalid("Invalid.Param", "An extension name is 1-128 characters.")
    unknown = [e for e in events if e not in EVENTS]
    if not events or unknown:
        raise Invalid(
            "Invalid.Param",
            f"Events must be some of {', '.join(EVENTS)} (got {', '.join(events) or 'none'}).",
        )
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        raise Invalid("Invalid.Param", f"The extension URL must be http(s)://host/…, not {url!r}.")
    if len(secret) < 8:
        raise Invalid("Invalid.Param", "The signing secret must be at least 8 characters.")


def add_extension(
    core: Core,
    principal: Principal,
    code: str,
    name: str,
    events: Sequence[str],
    url: str,
    secret: str,
    workspaces: Sequence[ProjectRef] = (),
    description: str = "",
    *,
    allow_any_address: bool = False,
    resolve: Resolver = resolve_host,
) -> Extension:
    """Register an extension; its URL's host is resolved and checked unless
    ``allow_any_address`` (see :func:`refused_address`)."""
    events = list(dict.fromkeys(e.strip() for e in events if e.strip()))
    _validate(code, name, events, url, secret)
    if not allow_any_address:
        _check_host(url, urlsplit(url).hostname or "", resolve)
    with core.store.transaction(write=True) as tx:
        store = tx.checks()
        if store.extension(principal.account_id, code) is not None:
            raise Invalid("Invalid.Extension.Exists", f"An extension with code {code} exists.")
        project_ids = sorted({resolve_project(tx, principal, ref).id for ref in workspaces})
        extension = Extension(
            account_id=principal.account_id,
            code=code,
            name=name,
            events=events,
            url=url,
            secret=secret,
            owner=principal.user_id,
            create_time=core.clock(),
            description=description,
            project_ids=project_ids,
        )
        store.insert_extension(extension)
        return extension


def _missing(code: str) -> NotFound:
    return NotFound("InvalidExtension.NotFound", f"The extension {code} does not exist.")


def get_extension(core: Core, principal: Principal, code: str) -> Extension:
    with core.store.transaction() as tx:
        found = tx.checks().extension(principal.account_id, code)
    if found is None:
        raise _missing(code)
    return found


def list_extensions(core: Core, principal: Principal, page: Page) -> tuple[list[Extension], int]:
    with core.store.transaction() as tx:
        return tx.checks().list_extensions(principal.account_id, page)


def remove_extension(core: Core, principal: Principal, code: str) -> None:
    """Unregister; checks it still owes will time out (FAIL) as documented."""
    with core.store.transaction(write=True) as tx:
        if not tx.checks().delete_extension(principal.account_id, code):
            raise _missing(code)


# -- the outbox -------------------------------------------------------------------------


def claim_deliveries(core: Core, limit: int = 10) -> list[tuple[Delivery, str, str]]:
    """Due deliveries with their URL and secret, leased for ``LEASE_MS`` to this caller."""
    now = core.clock()
    claimed: list[tuple[Delivery, str, str]] = []
    with core.store.transaction() as tx:
        if not tx.checks().due_deliveries(now, 1):
            return claimed
    with core.store.transaction(write=True) as tx:
        store = tx.checks()
        for delivery in store.due_deliveries(now, limit):
            run = store.run(delivery.run_id)
            extension = store.extension(delivery.account_id, delivery.extension_code)
            if run is None or run.status != RunStatus.CHECKING or extension is None:
                delivery.state = "ABANDONED"
            else:
                delivery.next_attempt = now + LEASE_MS
                claimed.append((delivery, extension.url, extension.secret))
            store.update_delivery(delivery)
    return claimed


def finish_delivery(core: Core, delivery: Delivery, error: str | None) -> None:
    """Record one attempt: delivered, or retried later with exponential backoff."""
    now = core.clock()
    delivery.attempts += 1
    if error is None:
        delivery.state, delivery.last_error = "DELIVERED", ""
    else:
        delay = min(BACKOFF_FIRST_MS * 2 ** (delivery.attempts - 1), BACKOFF_MAX_MS)
        delivery.next_attempt, delivery.last_error = now + delay, error[:1000]
    with core.store.transaction(write=True) as tx:
        tx.checks().update_delivery(delivery)
