"""Protocol layer: the Alibaba Cloud RPC wire protocol, with no knowledge of the product.

Sans-I/O: everything here works on bytes and strings handed in by an HTTP adapter::

    RawRequest ─> decode_params ─> authenticate ─────────> coerce_params ─> (operation)
    (request)     (params)         identify, check_timestamp,  (params)
                                   lookup, verify, nonce
                                   (auth, signing, nonces)
    ApiError tree (errors) ─> render_error / render_success (render)

Modules: ``errors`` (error tree and factories), ``request`` (``RawRequest``), ``encoding``
(form decoding, RFC 3986), ``params`` (decoding and typing), ``signing`` (ACS3 and v1),
``nonces`` (replay cache), ``auth`` (the authentication sequence), ``render`` (bodies).
"""

from __future__ import annotations

from .auth import Credential, CredentialLookup, authenticate
from .errors import (
    ApiError,
    ClientError,
    ServerError,
    Throttled,
    access_key_inactive,
    access_key_not_found,
    api_not_found,
    incomplete_signature,
    internal_error,
    invalid_parameter,
    invalid_version,
    missing_parameter,
    nonce_used,
    signature_method,
    signature_mismatch,
    timestamp_expired,
    timestamp_format,
)
from .nonces import MemoryNonceCache, NonceCache
from .params import COMMON_PARAMETERS, ParamSpec, coerce_params, decode_params
from .render import (
    error_document,
    new_request_id,
    render_error,
    render_success,
    response_format,
)
from .request import RawRequest
from .signing import Signed, check_timestamp, identify, parse_timestamp, string_to_sign, verify

__all__ = [
    "COMMON_PARAMETERS",
    "ApiError",
    "ClientError",
    "Credential",
    "CredentialLookup",
    "MemoryNonceCache",
    "NonceCache",
    "ParamSpec",
    "RawRequest",
    "ServerError",
    "Signed",
    "Throttled",
    "access_key_inactive",
    "access_key_not_found",
    "api_not_found",
    "authenticate",
    "check_timestamp",
    "coerce_params",
    "decode_params",
    "error_document",
    "identify",
    "incomplete_signature",
    "internal_error",
    "invalid_parameter",
    "invalid_version",
    "missing_parameter",
    "new_request_id",
    "nonce_used",
    "parse_timestamp",
    "render_error",
    "render_success",
    "response_format",
    "signature_method",
    "signature_mismatch",
    "string_to_sign",
    "timestamp_expired",
    "timestamp_format",
    "verify",
]
