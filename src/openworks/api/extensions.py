"""Extension operations: ListExtensions, GetExtension, GetIDEEventDetail, the three ways an
extension answers (CallbackExtension, UpdateIDEEventResult, CheckFileDeployment) and
ListCheckProcesses."""

from __future__ import annotations

from typing import Any

from openworks.core import check_processes, checks, extensions
from openworks.core.check_ports import Extension, ProcessFilter
from openworks.core.extensions import EVENTS
from openworks.presenters.file import committed_file, deleted_file
from openworks.protocol.errors import invalid_parameter, missing_parameter

from .registry import Call, Params, handles, page_of, paged, project_ref

__all__: list[str] = []


def _bind_list(ext: Extension) -> list[dict[str, Any]]:
    return [{"EventCode": e, "EventName": EVENTS[e].name_en} for e in ext.events if e in EVENTS]


def _extension_summary(ext: Extension) -> dict[str, Any]:
    return {
        "BindEventList": _bind_list(ext),
        "ExtensionCode": ext.code,
        "ExtensionDesc": ext.description,
        "ExtensionName": ext.name,
        "Owner": ext.owner,
        "Status": ext.status,
    }


@handles("ListExtensions")
def list_extensions(call: Call, p: Params) -> dict[str, Any]:
    page = page_of(p)
    found, total = extensions.list_extensions(call.core, call.principal, page)
    return {"PagingInfo": paged("Extensions", [_extension_summary(e) for e in found], page, total)}


@handles("GetExtension")
def get_extension(call: Call, p: Params) -> dict[str, Any]:
    ext = extensions.get_extension(call.core, call.principal, p["ExtensionCode"])
    scope = ",".join(str(i) for i in ext.project_ids)
    return {
        "Extension": {
            **_extension_summary(ext),
            "DetailUrl": None,
            "EventCategoryList": [{"CategoryCode": "data-studio", "CategoryName": "DataStudio"}],
            "HelpDocUrl": None,
            "OptionSetting": None,
            "ParameterSetting": f"extension.project.scope={scope or 'all'}",
            "ProjectTesting": None,
        }
    }


def _answer(call: Call, p: Params, tip: str) -> None:
    message_id = p.get("MessageId")
    result = p.get("CheckResult")
    if not message_id:
        raise missing_parameter("MessageId")
    if not result:
        raise missing_parameter("CheckResult")
    if result not in checks.RESULTS:
        raise invalid_parameter("CheckResult", "must be OK, WARN or FAIL")
    checks.answer_check(
        call.core, call.principal, message_id, p.get("ExtensionCode"), result, p.get(tip)
    )


@handles("CallbackExtension")
def callback_extension(call: Call, p: Params) -> dict[str, Any]:
    _answer(call, p, "CheckMessage")
    return {"Success": "true"}


@handles("UpdateIDEEventResult")
def update_ide_event_result(call: Call, p: Params) -> dict[str, Any]:
    _answer(call, p, "CheckResultTip")
    return {}


@handles("CheckFileDeployment")
def check_file_deployment(call: Call, p: Params) -> dict[str, Any]:
    status = p["Status"]
    if status not in checks.RESULTS:
        raise invalid_parameter("Status", "must be OK, WARN or FAIL")
    checks.answer_checker_instance(call.core, call.principal, p["CheckerInstanceId"], status)
    return {}


@handles("GetIDEEventDetail")
def get_ide_event_detail(call: Call, p: Params) -> dict[str, Any]:
    snap = check_processes.event_detail(call.core, call.principal, project_ref(p), p["MessageId"])
    v, f = snap.version, snap.file
    if snap.event.event_code == "delete-file":
        return {"EventDetail": {"DeletedFile": deleted_file(f, v)}}
    return {"EventDetail": {"CommittedFile": committed_file(snap.project, f, v)}}


@handles("ListCheckProcesses")
def list_check_processes(call: Call, p: Params) -> dict[str, Any]:
    if p.get("ProjectId") is None:
        raise missing_parameter("ProjectId")
    page = page_of(p)
    flt = ProcessFilter(p["EventCode"], p.get("MessageId"), p.get("Operator"))
    found, total = check_processes.list_processes(
        call.core, call.principal, project_ref(p), flt, p.get("Status"), page
    )
    return {
        "PagingInfo": paged(
            "CheckProcesses",
            [
                {
                    "EventCode": e.event_code,
                    "EventName": EVENTS[e.event_code].name_zh,
                    "EventNameEn": EVENTS[e.event_code].name_en,
                    "MessageId": e.message_id,
                    "Operator": e.operator,
                    "ProcessId": str(e.id),
                    "ProcessName": e.process_name,
                    "ProjectId": e.project_id,
                    "Status": status,
                }
                for e, status in found
            ],
            page,
            total,
        )
    }
