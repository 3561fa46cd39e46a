"""Authentication of one request: signature, clock, key, replay — in that order.

::

    authenticate(raw, params, lookup, nonces, now)
      1. identify           which scheme, which key, which claims     IncompleteSignature,
                                                                      InvalidSignatureMethod,
                                                                      MissingParameter
      2. check_timestamp    within ±window of now                     InvalidTimeStamp.*
      3. lookup(key id)     None / inactive                           InvalidAccessKeyId.*
      4. verify             HMAC over the rebuilt string to sign      SignatureDoesNotMatch
      5. nonce              first use of (key id, nonce)              SignatureNonceUsed
      → (Credential, Signed)

The nonce is recorded only after the signature verified, so forged requests cannot burn
the nonces of genuine ones. What a credential's ``principal`` is remains the caller's
business.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from .errors import access_key_inactive, access_key_not_found, incomplete_signature, nonce_used
from .nonces import NonceCache
from .request import RawRequest
from .signing import Signed, check_timestamp, identify, verify

__all__ = ["Credential", "CredentialLookup", "authenticate"]


@dataclass(frozen=True, slots=True)
class Credential:
    """An AccessKey pair known to the server."""

    access_key_id: str
    secret: str
    active: bool
    principal: object


class CredentialLookup(Protocol):
    """Finds the credential of an AccessKey id, or ``None``."""

    def __call__(self, access_key_id: str) -> Credential | None: ...


def authenticate(
    raw: RawRequest,
    params: Mapping[str, str],
    lookup: CredentialLookup,
    nonces: NonceCache,
    now: float,
    window_seconds: int = 900,
    signed: Signed | None = None,
) -> tuple[Credential, Signed]:
    """Authenticate a request; raise an :class:`~openworks.protocol.errors.ApiError` if not.
    ``signed``: the request's claims when the caller has identified them already (to pick
    the operation the signature covers before authenticating)."""
    if signed is None:
        signed = identify(raw, params)
    check_timestamp(signed, now, window_seconds)
    credential = lookup(signed.access_key_id)
    if credential is None:
        raise access_key_not_found(signed.access_key_id)
    if not credential.active:
        raise access_key_inactive(signed.access_key_id)
    verify(raw, params, signed, credential.secret)
    if not signed.nonce:
        raise incomplete_signature("the signature nonce is missing")
    if not nonces.check_and_add(signed.access_key_id, signed.nonce, now):
        raise nonce_used(signed.nonce)
    return credential, signed
