"""Errors that the protocol layer (and everything above it) raises towards the client.

Every failure a client may see is an :class:`ApiError`; the renderer turns it into the
Alibaba Cloud error envelope (``Code``, ``Message``, ``RequestId``...) with ``status`` as
the HTTP status and ``headers`` as extra response headers::

    Exception
    └── ApiError                 status 400..599, code, message, headers
        ├── ClientError          4xx (default 400)
        │   └── Throttled        429 + ``x-acs-retry-after: <ms>``
        └── ServerError          5xx (default 500)

Two rules from the SDKs are enforced at construction time, because breaking them turns an
ordinary error into a different exception class on the client side:

* only :class:`Throttled` may carry the ``x-acs-retry-after`` header (tea-openapi 0.4.6
  turns *any* error with that header into a ``ThrottlingException``);
* only :class:`Throttled` may use a code containing ``Throttling`` (tea-openapi 0.4.5
  decides from the code).

The factory functions below build the common gateway errors. They return the error; the
caller raises it. Messages echo client input clipped to a bounded length, except
:func:`signature_mismatch`, whose message must carry the full string to sign after a colon
(the legacy SDK does ``Message.split(':')[1]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

__all__ = [
    "RETRY_AFTER_HEADER",
    "SIGNATURE_MISMATCH_PREFIX",
    "ApiError",
    "ClientError",
    "ServerError",
    "Throttled",
    "access_key_inactive",
    "access_key_not_found",
    "action_conflict",
    "api_not_found",
    "incomplete_signature",
    "internal_error",
    "invalid_parameter",
    "invalid_version",
    "missing_parameter",
    "nonce_used",
    "service_unavailable",
    "signature_method",
    "signature_mismatch",
    "timestamp_expired",
    "timestamp_format",
]

RETRY_AFTER_HEADER = "x-acs-retry-after"
SIGNATURE_MISMATCH_PREFIX = (
    "Specified signature is not matched with our calculation. server string to sign is:"
)
_CLIP = 128


class ApiError(Exception):
    """Base: rendered as the Alibaba Cloud error envelope."""

    status: int
    code: str
    message: str
    headers: dict[str, str]

    _status_range: ClassVar[tuple[int, int]] = (400, 599)
    _throttling: ClassVar[bool] = False

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        low, high = self._status_range
        if not low <= status <= high:
            raise ValueError(f"{type(self).__name__} status must be in {low}..{high}: {status}")
        if not code:
            raise ValueError("error code must not be empty")
        lowered = {name.lower(): value for name, value in (headers or {}).items()}
        if not self._throttling and (RETRY_AFTER_HEADER in lowered or "Throttling" in code):
            raise ValueError("only Throttled errors may use a Throttling code or retry-after")
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = lowered


class ClientError(ApiError):
    """An error caused by the request (HTTP 4xx)."""

    _status_range = (400, 499)


class ServerError(ApiError):
    """An error on the server side (HTTP 5xx)."""

    _status_range = (500, 599)

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 500,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, message, status, headers=headers)


class Throttled(ClientError):
    """HTTP 429 with the ``x-acs-retry-after`` header (milliseconds, at least 1)."""

    _throttling = True
    retry_after_ms: int

    def __init__(
        self,
        code: str,
        message: str,
        retry_after_ms: int,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        wait = max(1, int(retry_after_ms))
        headers = dict(extra_headers or {})
        headers[RETRY_AFTER_HEADER] = str(wait)
        super().__init__(code, message, 429, headers=headers)
        self.retry_after_ms = wait


def _clip(value: str) -> str:
    return value if len(value) <= _CLIP else value[:_CLIP] + "..."


def missing_parameter(name: str) -> ClientError:
    return ClientError(
        "MissingParameter", f'The required parameter "{_clip(name)}" is missing from the request.'
    )


def invalid_parameter(name: str, reason: str) -> ClientError:
    return ClientError(
        "InvalidParameter", f'The value of the parameter "{_clip(name)}" is invalid: {reason}.'
    )


def api_not_found(action: str) -> ClientError:
    return ClientError(
        "InvalidApi.NotFound",
        f'The action "{_clip(action)}" does not exist in this API version.',
        404,
    )


def invalid_version(version: str) -> ClientError:
    return ClientError("InvalidVersion", f'The API version "{_clip(version)}" is not supported.')


def incomplete_signature(reason: str) -> ClientError:
    return ClientError("IncompleteSignature", f"The request signature is incomplete: {reason}.")


def signature_mismatch(string_to_sign: str) -> ClientError:
    return ClientError("SignatureDoesNotMatch", SIGNATURE_MISMATCH_PREFIX + string_to_sign)


def access_key_not_found(key_id: str) -> ClientError:
    return ClientError(
        "InvalidAccessKeyId.NotFound",
        f'The AccessKeyId "{_clip(key_id)}" does not exist.',
        404,
    )


def access_key_inactive(key_id: str) -> ClientError:
    return ClientError(
        "InvalidAccessKeyId.Inactive", f'The AccessKeyId "{_clip(key_id)}" is disabled.'
    )


def timestamp_format(value: str) -> ClientError:
    return ClientError(
        "InvalidTimeStamp.Format",
        f'The timestamp "{_clip(value)}" is not a UTC time of the form YYYY-MM-DDThh:mm:ssZ.',
    )


def timestamp_expired(value: str) -> ClientError:
    return ClientError(
        "InvalidTimeStamp.Expired",
        f'The timestamp "{_clip(value)}" is too far from the server time.',
    )


def nonce_used(nonce: str) -> ClientError:
    return ClientError(
        "SignatureNonceUsed", f'The signature nonce "{_clip(nonce)}" has already been used.'
    )


def signature_method(value: str) -> ClientError:
    return ClientError(
        "InvalidSignatureMethod", f'The signature method "{_clip(value)}" is not supported.'
    )


def internal_error() -> ServerError:
    return ServerError("InternalError.System", "The server failed to process the request.")


def action_conflict(name: str, header: str, parameter: str) -> ClientError:
    """The request names two different operations (or versions): the ``x-acs-*`` header and
    the parameter disagree, so which one runs would not be the one the signature covers."""
    return ClientError(
        "InvalidParameter.Conflict",
        f'The header x-acs-{name.lower()} "{_clip(header)}" and the parameter {name} '
        f'"{_clip(parameter)}" disagree.',
    )


def service_unavailable(reason: str) -> ServerError:
    """A dependency the server needs for this call (e.g. the shared replay cache) is down."""
    return ServerError(
        "ServiceUnavailable", f"The service is temporarily unavailable: {reason}.", 503
    )
