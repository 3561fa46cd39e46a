"""Changes made with ``openworks`` commands go into the audit trail, as API calls do.

Each command that changes something (``sync``, ``deployments approve|reject``, ``workspace
set``, ``extensions add|remove``, ``accounts create``, ``users create|disable|enable|passwd``,
``keys create|disable|enable|delete``, ``sts issue``) writes one row, whether it succeeded
or not::

    source     "cli" (API calls: "api")
    account    the account the command acts on (OPENWORKS_ACCOUNT_ID, or --account)
    user       the user it acts as: the account's root user, or --user NAME
    operator   who ran it: the operating system user and host, "alice@build-01";
               under sudo "alice@build-01(sudo:root)" (SUDO_USER, then the effective user)
    AccessKey  empty: no key signs a command
    action     the command's words joined by dots: "deployments.approve", "sync"
    status     200 and code "OK"; a domain error's HTTP status and code (403
               Forbidden.Deploy.NotReviewer, ...); 400 "Invalid.Command" for other refusals
               (no such user, a short password); 500 "InternalError" or 499 "Interrupted"
    params     what was asked (secrets redacted as for the API) and what came of it
               (new IDs, package statuses, the error message)

The operator is what the operating system says (``getpass.getuser()``, ``LOGNAME`` first):
a record, not a proof. Whoever can run these commands can write the database directly, so
the CLI's audit rows are as trustworthy as the hosts and accounts that hold the database URL.
Usage errors (exit 2) and read-only commands write nothing.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from openworks.core.access import ProjectRef
from openworks.core.context import now_ms
from openworks.core.errors import DomainError
from openworks.protocol.render import new_request_id
from openworks.store.audit import AuditEntry, append

__all__ = ["Change", "audited", "operator"]

SOURCE = "cli"
_STATUS_BY_KIND = {"invalid": 400, "not_found": 404, "forbidden": 403}


def operator() -> str:
    """``user@host`` of the process (``alice@host(sudo:root)`` when run through sudo)."""
    try:
        user = getpass.getuser()
    except Exception:  # no name for this uid (containers): the number will do
        getuid = getattr(os, "getuid", None)
        user = f"uid{getuid()}" if getuid is not None else "unknown"
    host = socket.gethostname() or "localhost"
    sudo_user = os.environ.get("SUDO_USER")
    if sudo_user and sudo_user != user:
        return f"{sudo_user}@{host}(sudo:{user})"
    return f"{user}@{host}"


@dataclass(slots=True)
class Change:
    """One command's audit row, filled in while it runs."""

    engine: Engine
    account_id: str
    user_id: str
    action: str
    params: dict[str, Any]
    project_id: int | None = None
    project_identifier: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def workspace(self, project_id: int, identifier: str | None = None) -> None:
        """The workspace the command turned out to change (once resolved)."""
        self.project_id = project_id
        if identifier is not None:
            self.project_identifier = identifier

    def write(self, status: int, code: str, error: str | None = None) -> bool:
        params = dict(self.params)
        if self.result:
            params["Result"] = self.result
        if error is not None:
            params["ErrorMessage"] = error
        entry = AuditEntry(
            time=now_ms(),
            account_id=self.account_id,
            user_id=self.user_id,
            access_key_id="",
            action=self.action,
            status=status,
            code=code,
            request_id=new_request_id(),
            project_id=self.project_id,
            project_identifier=self.project_identifier,
            params=params,
            source=SOURCE,
            operator=operator(),
        )
        return append(self.engine, entry)


@contextmanager
def audited(
    engine: Engine,
    account_id: str,
    user_id: str,
    action: str,
    params: Mapping[str, Any],
    ref: ProjectRef | None = None,
) -> Iterator[Change]:
    """Write the command's audit row when the block ends: ``OK`` if it returns, the error
    (re-raised) if it raises. The block may add to ``change.result`` and name the workspace
    (``change.workspace(id)``)."""
    change = Change(engine, account_id, user_id, action, dict(params))
    if ref is not None:
        change.project_id, change.project_identifier = ref.id, ref.identifier
    try:
        yield change
    except DomainError as err:
        change.write(_STATUS_BY_KIND.get(err.kind, 400), err.code, err.message)
        raise
    except ValueError as err:  # IdentityError, a console password too short, ...
        change.write(400, "Invalid.Command", str(err))
        raise
    except SystemExit as err:  # a command that exits inside the block
        if err.code in (0, None):
            change.write(200, "OK")
        else:
            change.write(400, "Invalid.Command", f"exit status {err.code}")
        raise
    except KeyboardInterrupt:
        change.write(499, "Interrupted", "interrupted (Ctrl-C) before the command finished")
        raise
    except Exception as err:
        change.write(500, "InternalError", f"{type(err).__name__}: {err}")
        raise
    change.write(200, "OK")
