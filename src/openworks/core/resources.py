"""Resource files (FileType 12-15): a file whose versions name their bytes by SHA-256.

A resource is a file like any other (versions, SubmitFile, DeployFile); its bytes live in
a blob store (:class:`BlobStore`, implemented in ``openworks.store.blobs``) under their
SHA-256, and the file's configuration ``config["Resource"]`` holds the digest, so each
committed version keeps the digest it had: blobs are immutable and never deleted by
openworks, so a superseded version's bytes stay readable. ::

    CreateResourceFile ─▶ bytes from exactly one of
         │                  Content (text, stored as UTF-8)
         │                  ResourceFile = data:[<type>][;base64],<data>
         │                  ResourceFile = <any host>/resources/sha256/<hex> (uploaded
         │                                 for this workspace: `openworks resources upload`)
         ├─ blobs.put(bytes): size-bounded, SHA-256 computed (and verified when named)
         └─ one write transaction: the workspace may use the digest (blob_grants), the
            file is inserted with config["Resource"] = {digest, size, originResourceName,…}

A digest named by an upload URL counts only in a workspace it was stored for, so knowing a
hash never reads another workspace's bytes. Download links are signed
(:class:`DownloadLinks`): ``/resources/sha256/<hex>?name=…&expires=…&signature=…``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from . import files
from .access import ProjectRef, resolve_project
from .context import Core
from .errors import Invalid, NotFound
from .files import add_file, find_file
from .model import File, Principal, Project
from .ports import Tx

__all__ = [
    "CONFIG_KEY",
    "DEFAULT_MAX_BYTES",
    "DOWNLOAD_PATH",
    "RESOURCE_TYPES",
    "BlobCorrupt",
    "BlobStore",
    "DownloadLinks",
    "ResourceInput",
    "check_name",
    "create_resource_file",
    "digest_of",
    "download_link",
    "grant_upload",
    "install",
    "is_digest",
    "is_resource",
    "ports_of",
    "read_version_bytes",
    "resource_of",
    "stage_bytes",
    "take_bytes",
    "update_file",
    "upload_url",
]

CONFIG_KEY = "Resource"
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DOWNLOAD_PATH = "/resources/sha256/"
# FileType → the name endings DataWorks asks of such a resource (none: any name).
RESOURCE_TYPES: Mapping[int, tuple[str, ...]] = {
    12: (".py",),
    13: (".jar",),
    14: (".zip", ".tgz", ".tar.gz", ".tar", ".jar"),
    15: (),
}
_HEX = re.compile(r"[0-9a-f]{64}")
_UPLOAD_PATH = re.compile(r"/resources/sha256/([0-9a-f]{64})/?")
_STORAGE_URL_MAX = 1024


class BlobCorrupt(Exception):
    """Stored bytes whose SHA-256 no longer matches their name (a server fault, not input)."""


class BlobStore(Protocol):
    """Immutable bytes by SHA-256 (lowercase hex). ``put`` refuses more than ``max_bytes``
    (Invalid ``Invalid.Resource.TooLarge``) and bytes that do not hash to ``digest`` when
    one is named (``Invalid.Resource.Checksum``); ``get`` verifies what it reads
    (:class:`BlobCorrupt`) and raises NotFound for an unknown digest."""

    max_bytes: int

    def put(self, data: bytes, digest: str | None = None) -> str: ...

    def get(self, digest: str) -> bytes: ...

    def size(self, digest: str) -> int | None: ...

    def delete(self, digest: str) -> bool: ...


def is_digest(text: str) -> bool:
    return bool(_HEX.fullmatch(text))


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_resource(file_type: int) -> bool:
    return file_type in RESOURCE_TYPES


def resource_of(file_config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``Resource`` record of a file's or a version's configuration, if any."""
    record = file_config.get(CONFIG_KEY)
    return record if isinstance(record, dict) and is_digest(str(record.get("digest"))) else None


# -- download links --------------------------------------------------------------------


@dataclass(frozen=True)
class DownloadLinks:
    """Signed, expiring links to ``/resources/sha256/<hex>`` on openworks itself.

    signature = hex HMAC-SHA256(key, "<hex>\\n<expires>\\n<name>"); ``expires`` in Unix
    seconds. ``base_url`` is what clients reach the server at (OPENWORKS_PUBLIC_URL)."""

    key: bytes
    base_url: str
    ttl: int = 3600

    def _sign(self, digest: str, expires: int, name: str) -> str:
        text = f"{digest}\n{expires}\n{name}".encode()
        return hmac.new(self.key, text, hashlib.sha256).hexdigest()

    def link(self, digest: str, name: str, now_s: int) -> str:
        expires = now_s + self.ttl
        query = urllib.parse.urlencode(
            {"name": name, "expires": expires, "signature": self._sign(digest, expires, name)}
        )
        return f"{self.base_url.rstrip('/')}{DOWNLOAD_PATH}{digest}?{query}"

    def valid(self, digest: str, name: str, expires: str, signature: str, now_s: int) -> bool:
        if not expires.isdigit() or int(expires) < now_s or len(expires) > 12:
            return False
        return hmac.compare_digest(self._sign(digest, int(expires), name), signature)


def upload_url(base_url: str, digest: str) -> str:
    """The URL ``openworks resources upload`` prints and ResourceFile accepts."""
    return f"{base_url.rstrip('/')}{DOWNLOAD_PATH}{digest}"


# -- the ports a Core is given at start --------------------------------------------------


@dataclass(frozen=True)
class Ports:
    blobs: BlobStore
    links: DownloadLinks | None = None


_PORTS: dict[int, tuple[Core, Ports]] = {}
_LOCK = threading.Lock()


def install(core: Core, blobs: BlobStore, links: DownloadLinks | None = None) -> None:
    """Give ``core`` its blob store (and the download link signer of a server)."""
    with _LOCK:
        _PORTS[id(core)] = (core, Ports(blobs, links))


def ports_of(core: Core) -> Ports:
    entry = _PORTS.get(id(core))
    if entry is None or entry[0] is not core:
        raise Invalid(
            "Invalid.Resource.Unavailable", "This server has no blob store for resources."
        )
    return entry[1]


def download_link(core: Core, file: File, now_ms: int) -> str | None:
    """GetFile's ``ResourceDownloadLink.downloadLink`` for a resource file, else None."""
    record = resource_of(file.config)
    entry = _PORTS.get(id(core))
    if record is None or entry is None or entry[0] is not core or entry[1].links is None:
        return None
    name = str(record.get("originResourceName") or file.name)
    return entry[1].links.link(record["digest"], name, now_ms // 1000)


# -- CreateResourceFile ----------------------------------------------------------------


@dataclass(frozen=True)
class ResourceInput:
    """CreateResourceFile's resource parameters (``None`` = not given)."""

    origin_name: str
    register_to_calc_engine: bool
    content: str | None = None
    resource_file: str | None = None
    storage_url: str | None = None
    upload_mode: bool | None = None


def _check_type(file_type: int, name: str, origin: str, storage_url: str | None) -> None:
    if not is_resource(file_type):
        codes = ", ".join(str(c) for c in RESOURCE_TYPES)
        raise Invalid(
            "Invalid.Resource.FileType",
            f"FileType {file_type} is not a resource type (use one of {codes}).",
        )
    check_name(file_type, name)
    if not origin or len(origin) > 256 or "/" in origin or "\\" in origin:
        raise Invalid(
            "Invalid.Resource.OriginResourceName",
            "OriginResourceName must be a file name of 1-256 characters without slashes.",
        )
    if storage_url is not None and len(storage_url) > _STORAGE_URL_MAX:
        raise Invalid("Invalid.Param", f"StorageURL must be at most {_STORAGE_URL_MAX} characters.")


def check_name(file_type: int, name: str) -> None:
    """A resource's name ends as its type asks (``Invalid.Resource.FileName``)."""
    endings = RESOURCE_TYPES.get(file_type, ())
    if endings and not name.lower().endswith(endings):
        raise Invalid(
            "Invalid.Resource.FileName",
            f"The name of a FileType {file_type} resource must end with "
            f"{' or '.join(endings)}: {name!r}.",
        )


def _data_url(url: str) -> bytes:
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise Invalid("Invalid.Resource.Url", "A data: URL needs a comma before its data.")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=True)
        return urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise Invalid("Invalid.Resource.Url", "The data: URL is not valid base64.") from None


def _source(resource: ResourceInput) -> tuple[bytes | None, str | None]:
    """(bytes given inline, or the digest of an upload URL)."""
    given = [v for v in (resource.content, resource.resource_file) if v]
    if not given:
        raise Invalid(
            "Invalid.Resource.Missing",
            "A resource needs its bytes: Content (text) or ResourceFile (a data: URL, or "
            "the URL `openworks resources upload` printed).",
        )
    if len(given) > 1:
        raise Invalid("Invalid.Resource.Ambiguous", "Give Content or ResourceFile, not both.")
    if resource.content:
        return resource.content.encode(), None
    url = resource.resource_file or ""
    if url[:5].lower() == "data:":
        return _data_url(url), None
    parsed = urllib.parse.urlsplit(url)
    match = _UPLOAD_PATH.fullmatch(parsed.path)
    if parsed.scheme.lower() not in ("http", "https") or match is None:
        raise Invalid(
            "Invalid.Resource.Url",
            "ResourceFile must be a data: URL or an openworks upload URL "
            "(…/resources/sha256/<64 hex digits>); openworks fetches no other URL.",
        )
    return None, match.group(1)


def create_resource_file(
    core: Core,
    principal: Principal,
    ref: ProjectRef,
    file_type: int,
    changes: Mapping[str, Any],
    resource: ResourceInput,
    extra_config: Mapping[str, Any] | None = None,
) -> int:
    """Store the bytes, then insert the file in one transaction; returns the FileId.

    Bytes stored by a call that then fails are harmless: content-addressed, unreferenced,
    and unusable by any workspace (no grant was committed)."""
    name = str(changes.get("FileName") or "")
    _check_type(file_type, name, resource.origin_name, resource.storage_url)
    staged = stage_bytes(core, resource)
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        digest, size = take_bytes(core, tx, project, staged, now)
        record = {
            "digest": digest,
            "size": size,
            "originResourceName": resource.origin_name,
            "registerToCalcEngine": resource.register_to_calc_engine,
            "storageUrl": resource.storage_url,
            "uploadMode": resource.upload_mode,
        }
        text = resource.content if resource.content else ""
        # CreateResourceFile has no CreateFolderIfNotExists: its folder is made when missing
        fields = {**changes, "Content": text, "CreateFolderIfNotExists": True}
        config = {**(extra_config or {}), CONFIG_KEY: record}
        return add_file(tx, project, principal, file_type, fields, now, config).id


def stage_bytes(core: Core, resource: ResourceInput) -> tuple[str, bool]:
    """Store inline bytes (before any transaction: blobs are content-addressed, so bytes of
    a call that then fails are harmless); returns (digest, named by an upload URL)."""
    data, named = _source(resource)
    if data is not None:
        return ports_of(core).blobs.put(data), False
    return named or "", True


def take_bytes(
    core: Core, tx: Tx, project: Project, staged: tuple[str, bool], now: int
) -> tuple[str, int]:
    """Inside the write transaction: check that an upload URL's digest was uploaded for
    this workspace, grant the digest to it; returns (digest, size)."""
    digest, named = staged
    if named and not tx.blob_granted(project.id, digest):
        raise Invalid(
            "Invalid.Resource.NotUploaded",
            f"No upload with SHA-256 {digest} exists for workspace {project.identifier}.",
        )
    size = ports_of(core).blobs.size(digest)
    if size is None:
        raise Invalid("Invalid.Resource.NotUploaded", f"The bytes with SHA-256 {digest} are gone.")
    tx.grant_blob(project.id, digest, size, now)
    return digest, size


def grant_upload(core: Core, project_id: int, data: bytes, digest: str | None) -> str:
    """``openworks resources upload`` (an operator's command, no API caller): store bytes
    for a workspace, verified against ``digest`` when given; returns the digest."""
    blobs = ports_of(core).blobs
    now = core.clock()
    with core.store.transaction() as tx:
        if tx.project(project_id) is None:
            raise Invalid(
                "Invalid.Tenant.ProjectNotExists", f"The project {project_id} does not exist."
            )
    stored = blobs.put(data, digest)
    with core.store.transaction(write=True) as tx:
        tx.grant_blob(project_id, stored, len(data), now)
    return stored


def read_version_bytes(core: Core, config: Mapping[str, Any]) -> bytes:
    """The bytes a file's or version's configuration names (NotFound if none)."""
    record = resource_of(config)
    if record is None:
        raise NotFound("InvalidResource.NotFound", "This file version names no resource bytes.")
    return ports_of(core).blobs.get(record["digest"])


def update_file(
    core: Core, principal: Principal, ref: ProjectRef, file_id: int, changes: Mapping[str, Any]
) -> None:
    """UpdateFile: for a resource, a new ``Content`` is also its new bytes (the text mode
    of a resource); the earlier versions keep the digests they committed."""
    content = changes.get("Content")
    digest: str | None = None
    if content is not None:
        with core.store.transaction() as tx:
            project = resolve_project(tx, principal, ref)
            found = find_file(tx, project, file_id)
        if is_resource(found.file_type):
            digest = ports_of(core).blobs.put(str(content).encode())
    if digest is None:
        files.update_file(core, principal, ref, file_id, changes)
        return
    now = core.clock()
    with core.store.transaction(write=True) as tx:
        project = resolve_project(tx, principal, ref)
        file = find_file(tx, project, file_id)
        size = len(str(content).encode())
        tx.grant_blob(project.id, digest, size, now)
        record = dict(resource_of(file.config) or {})
        file.config[CONFIG_KEY] = {**record, "digest": digest, "size": size}
        files.change_file(tx, project, principal, file, changes, now)
