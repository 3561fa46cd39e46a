"""The three official client paths behind one small interface for the tests.

``client.call("GetDeployment", ProjectId=1, DeploymentId=2)`` sends the operation through
the real SDK and returns the response body as the wire dict (names exactly as on the wire).
A failure raises :class:`CallFailed` carrying the code, HTTP status and request id the SDK
reported.

* ``tea``     ``alibabacloud-dataworks-public20200518``, default ACS3-HMAC-SHA256 signing
* ``tea-v2``  the same SDK with ``signature_algorithm='v2'`` (HMAC-SHA1, signature v1)
* ``legacy``  ``aliyun-python-sdk-core`` + ``aliyun-python-sdk-dataworks-public`` request
              classes (HMAC-SHA1, ``do_action_with_exception``)

Version 2024-05-18 (:data:`DIALECTS_2024`, :func:`make_client_2024`):

* ``tea``     ``alibabacloud-dataworks-public20240518``, default ACS3-HMAC-SHA256 signing
* ``tea-v2``  the same SDK with ``signature_algorithm='v2'``
* ``common``  ``aliyun-python-sdk-core``'s ``CommonRequest`` at version 2024-05-18 (RPC,
              HMAC-SHA1; the legacy SDK has no 2024 request classes). List and object
              parameters are sent as compact JSON text, as the Tea SDK does.
"""

from __future__ import annotations

import importlib
import json
import re
import weakref
from dataclasses import dataclass
from typing import Any

DIALECTS = ("tea", "tea-v2", "legacy")
DIALECTS_2024 = ("tea", "tea-v2", "common")


class CallFailed(Exception):
    def __init__(self, code: str, status: int | None, message: str, request_id: str | None):
        super().__init__(f"{code} ({status}): {message} [{request_id}]")
        self.code = code
        self.status = status
        self.message = message
        self.request_id = request_id


def snake(name: str) -> str:
    """SDK method name of an operation: GetIDEEventDetail -> get_ideevent_detail."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1\2", name)
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass
class TeaClient:
    endpoint: str
    key_id: str
    secret: str
    v2: bool = False
    security_token: str | None = None
    package: str = "alibabacloud_dataworks_public20200518"

    def __post_init__(self) -> None:
        from alibabacloud_tea_openapi.models import Config

        Client = importlib.import_module(f"{self.package}.client").Client

        config = Config(
            access_key_id=self.key_id,
            access_key_secret=self.secret,
            security_token=self.security_token,
            endpoint=self.endpoint,
            protocol="HTTP",
        )
        if self.v2:
            config.signature_algorithm = "v2"
        self.sdk = Client(config)

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        models = importlib.import_module(f"{self.package}.models")
        request = getattr(models, f"{action}Request")().from_map(params)
        try:
            response = getattr(self.sdk, snake(action))(request)
        except Exception as err:  # Tea raises several exception classes
            code = getattr(err, "code", None)
            if code is None:
                raise
            data = getattr(err, "data", None) or {}
            raise CallFailed(
                code,
                getattr(err, "status_code", None) or data.get("statusCode"),
                getattr(err, "message", str(err)),
                getattr(err, "request_id", None) or data.get("RequestId"),
            ) from err
        return dict(response.body.to_map())


@dataclass
class LegacyClient:
    endpoint: str
    key_id: str
    secret: str

    def __post_init__(self) -> None:
        self.sdk = self.make_sdk()
        self.sdk.add_endpoint("cn-shanghai", "dataworks-public", self.endpoint)
        # AcsClient closes its connection pool only in __del__; when the cyclic GC collects
        # it, its pooled sockets may be finalized first and warn (an error under
        # filterwarnings=error). A finalizer holding the session closes the pool first.
        weakref.finalize(self, self.sdk.session.close)

    def make_sdk(self) -> Any:
        from aliyunsdkcore.client import AcsClient

        return AcsClient(self.key_id, self.secret, "cn-shanghai", auto_retry=False)

    def request(self, action: str, **params: Any) -> Any:
        module = importlib.import_module(
            f"aliyunsdkdataworks_public.request.v20200518.{action}Request"
        )
        request = getattr(module, f"{action}Request")()
        for name, value in params.items():
            getattr(request, f"set_{name}")(value)
        return request

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        from aliyunsdkcore.acs_exception.exceptions import ServerException

        try:
            body = self.sdk.do_action_with_exception(self.request(action, **params))
        except ServerException as err:
            raise CallFailed(
                err.get_error_code(),
                err.get_http_status(),
                err.get_error_msg(),
                err.get_request_id(),
            ) from err
        return dict(json.loads(body))


def make_client(dialect: str, endpoint: str, key_id: str, secret: str) -> TeaClient | LegacyClient:
    if dialect == "tea":
        return TeaClient(endpoint, key_id, secret)
    if dialect == "tea-v2":
        return TeaClient(endpoint, key_id, secret, v2=True)
    if dialect == "legacy":
        return LegacyClient(endpoint, key_id, secret)
    raise ValueError(dialect)


@dataclass
class Tea2024Client(TeaClient):
    """The 2024-05-18 Tea SDK: ``call("GetNode", Id="12")`` with wire names and values."""

    package: str = "alibabacloud_dataworks_public20240518"


@dataclass
class CommonClient2024(LegacyClient):
    """``aliyun-python-sdk-core``'s CommonRequest at version 2024-05-18."""

    def request(self, action: str, **params: Any) -> Any:
        from aliyunsdkcore.request import CommonRequest

        request = CommonRequest(
            domain=self.endpoint,
            version="2024-05-18",
            action_name=action,
            product="dataworks-public",
        )
        request.set_protocol_type("http")
        request.set_method("POST")
        for name, value in params.items():
            if isinstance(value, list | dict):
                value = json.dumps(value, separators=(",", ":"))
            elif isinstance(value, bool):
                value = "true" if value else "false"
            request.add_query_param(name, str(value))
        return request


def make_client_2024(
    dialect: str, endpoint: str, key_id: str, secret: str
) -> Tea2024Client | CommonClient2024:
    if dialect == "tea":
        return Tea2024Client(endpoint, key_id, secret)
    if dialect == "tea-v2":
        return Tea2024Client(endpoint, key_id, secret, v2=True)
    if dialect == "common":
        return CommonClient2024(endpoint, key_id, secret)
    raise ValueError(dialect)
