"""Credentials beyond plain AccessKeys, and the audit hook: what the app asks per request.

Temporary (STS) credentials are stateless: the security token carries who and until when,
under an HMAC of the server key, and the temporary secret is recomputed from the key ID::

    token = "OWSTS1." base64url(json {k: key id, u: user, a: account, e: expiry, i: issued})
                  "." base64url(HMAC-SHA256(sts key, payload))
    secret = derived_secret(key id)            (never stored anywhere)

Per request::

    key id "STS.…" ── no token ─────────────▶ MissingSecurityToken
          │        ── bad MAC / syntax ─────▶ InvalidSecurityToken.Malformed
          │        ── token for another key ▶ InvalidSecurityToken.MismatchWithAccessKey
          │        ── past expiry ──────────▶ InvalidSecurityToken.Expired
          │        ── user gone / disabled ─▶ InvalidAccessKeyId.Inactive
          └──────────────────────────────────▶ Credential(temporary secret, the user)
    other key id + a token ─────────────────▶ InvalidSecurityToken.MismatchWithAccessKey
    other key id ───────────────────────────▶ the AccessKey lookup (cached)

Disabling the user revokes its temporary credentials at once; a token cannot be revoked
alone (keep durations short).
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Engine

from openworks.core.context import now_ms
from openworks.core.member_model import UserInfo
from openworks.core.model import Principal
from openworks.protocol import ClientError, Credential, CredentialLookup, RawRequest
from openworks.store.audit import AuditEntry, append
from openworks.store.audit_writer import AuditWriter
from openworks.store.identity import user_by_id
from openworks.store.secrets import SecretBox

__all__ = [
    "MAX_STS_SECONDS",
    "MIN_STS_SECONDS",
    "STS_PREFIX",
    "Security",
    "TemporaryCredential",
    "issue_sts",
    "parse_duration",
]

STS_PREFIX = "STS."
TOKEN_PREFIX = "OWSTS1."
MIN_STS_SECONDS = 1
MAX_STS_SECONDS = 43_200
_ALPHABET = string.ascii_letters + string.digits
log = logging.getLogger("openworks.security")


@dataclass(frozen=True, slots=True)
class TemporaryCredential:
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: int  # seconds since the epoch


def parse_duration(text: str) -> int:
    """``900``, ``900s``, ``15m``, ``1h`` → seconds, within the allowed range."""
    units = {"s": 1, "m": 60, "h": 3600}
    body, unit = (text[:-1], units[text[-1]]) if text[-1:] in units else (text, 1)
    if not body.isdigit():
        raise ValueError(f"not a duration: {text!r} (try 900s, 15m or 1h)")
    seconds = int(body) * unit
    if not MIN_STS_SECONDS <= seconds <= MAX_STS_SECONDS:
        raise ValueError(f"a duration is {MIN_STS_SECONDS}s to {MAX_STS_SECONDS}s")
    return seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_sts(
    box: SecretBox, user: UserInfo, seconds: int, now: float | None = None
) -> TemporaryCredential:
    issued = int(time.time() if now is None else now)
    key_id = STS_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(24))
    claims = {"k": key_id, "u": user.id, "a": user.account_id, "e": issued + seconds, "i": issued}
    payload = orjson.dumps(claims)
    token = f"{TOKEN_PREFIX}{_b64(payload)}.{_b64(box.mac(payload))}"
    return TemporaryCredential(key_id, box.derived_secret(key_id), token, issued + seconds)


def _token_error(code: str, message: str) -> ClientError:
    return ClientError(code, message, 400)


def _claims(box: SecretBox, token: str) -> dict[str, Any]:
    malformed = _token_error(
        "InvalidSecurityToken.Malformed", "The security token is malformed or was altered."
    )
    if not token.startswith(TOKEN_PREFIX) or len(token) > 2048:
        raise malformed
    body, _, tag = token[len(TOKEN_PREFIX) :].partition(".")
    try:
        payload, mac = _unb64(body), _unb64(tag)
    except ValueError:
        raise malformed from None
    if not hmac.compare_digest(mac, box.mac(payload)):
        raise malformed
    claims = orjson.loads(payload)
    if not isinstance(claims, dict):
        raise malformed
    return claims


def security_token_of(raw: RawRequest, params: Mapping[str, str]) -> str | None:
    return raw.headers.get("x-acs-security-token") or params.get("SecurityToken") or None


class Security:
    """The server key in use, temporary credentials and the audit trail: :meth:`audit`
    writes a row at once, :attr:`writer` (the process's group commit of audit rows,
    openworks.store.audit_writer) takes the rows of API calls; :meth:`close` writes what it
    still holds."""

    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self.engine = engine
        self.box = box
        self.writer = AuditWriter(engine)

    def close(self) -> None:
        """Write the audit rows still queued and stop the writer's thread."""
        self.writer.close()

    def lookup(
        self, keys: CredentialLookup, raw: RawRequest, params: Mapping[str, str]
    ) -> CredentialLookup:
        token = security_token_of(raw, params)

        def find(access_key_id: str) -> Credential | None:
            if access_key_id.startswith(STS_PREFIX):
                return self._temporary(access_key_id, token)
            if token is not None:
                raise _token_error(
                    "InvalidSecurityToken.MismatchWithAccessKey",
                    "A security token was sent with a permanent AccessKey.",
                )
            return keys(access_key_id)

        return find

    def _temporary(self, access_key_id: str, token: str | None) -> Credential:
        if token is None:
            raise _token_error(
                "MissingSecurityToken", "A temporary AccessKey needs its security token."
            )
        claims = _claims(self.box, token)
        if claims.get("k") != access_key_id:
            raise _token_error(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The security token belongs to another AccessKey.",
            )
        expiry = int(claims.get("e", 0))
        if time.time() >= expiry:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expiry))
            raise _token_error(
                "InvalidSecurityToken.Expired", f"The security token expired at {stamp}."
            )
        user = user_by_id(self.engine, str(claims.get("u")))
        active = user is not None and not user.disabled and user.account_id == claims.get("a")
        principal = (
            Principal(user.account_id, user.id, user.name)
            if user is not None
            else Principal("", "", "")
        )
        return Credential(access_key_id, self.box.derived_secret(access_key_id), active, principal)

    def audit_entry(
        self,
        *,
        principal: Principal,
        access_key_id: str,
        action: str,
        params: Mapping[str, Any],
        status: int,
        code: str,
        request_id: str,
        document: Mapping[str, Any] | None,
        version: str | None = None,
        project_param: str = "ProjectId",
    ) -> AuditEntry:
        """The audit entry of one state-changing call, as sent (bounded when written)."""
        project_id = params.get(project_param)
        identifier = params.get("ProjectIdentifier")
        if action == "CreateProject" and document is not None:
            # the new workspace: Data in 2020-05-18, Id in 2024-05-18
            project_id = document.get("Data", document.get("Id"))
        return AuditEntry(
            time=now_ms(),
            account_id=principal.account_id,
            user_id=principal.user_id,
            access_key_id=access_key_id,
            action=action,
            status=status,
            code=code,
            request_id=request_id,
            project_id=(
                project_id
                if isinstance(project_id, int) and not isinstance(project_id, bool)
                else None
            ),
            project_identifier=identifier if isinstance(identifier, str) else None,
            params=dict(params),
            version=version,
        )

    def audit(self, entry: AuditEntry) -> None:
        """Record one state-changing call now, in a transaction of its own; never raises.
        The row is bounded to the audit columns (:func:`openworks.store.audit.row_values`);
        a failed insert is logged, counted and replaced by a reduced row
        (:func:`openworks.store.audit.append`). The call's answer stands: it is computed,
        and a write is already committed. (API calls go through :attr:`writer` instead.)"""
        append(self.engine, entry)
