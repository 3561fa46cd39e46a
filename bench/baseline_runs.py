"""Baseline (b) for GetPipelineRun (2024-05-18): the run and its stages, read minimally.

One primary-key read of the run (stages are its JSON column), one of each package the run
links (dev / prod: the columns a stage's status follows from), the stage statuses derived
as ``openworks.core.run_stages.derive`` does, the document shaped as the server's
``Pipeline`` (same keys, same stage names and descriptions)::

    SELECT run ─▶ orjson.loads(stages) ─▶ SELECT dev / prod package ─▶ derive ─▶ document
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

__all__ = ["get_pipeline_run"]

_RUN = (
    "SELECT project_id, type, creator, create_time, modify_time, description, stages,"
    " dev_package_id, prod_package_id, cancelled FROM pipeline_runs WHERE id = ?"
)
_PACKAGE = "SELECT status, checking_status, error_message, hold FROM packages WHERE id = ?"
_INFO = {
    "BUILD_PACKAGE": ("Build", "Build package", "Checks the object and builds what to deploy."),
    "DEV_CHECK": ("Check", "Development checks", "Runs the workspace's checks before development."),
    "DEV": ("Deploy", "Deploy to development", "Commits the object to development."),
    "PROD_CHECK": ("Check", "Production checks", "Runs the workspace's checks before production."),
    "PROD": ("Deploy", "Deploy to production", "Deploys the object to production."),
}
_BUILD_DETAIL = {
    "checkerList": [
        {"code": "BuildPackageChecker", "name": "Build package check"},
        {"code": "NodeParentDependency", "name": "Downstream dependency check"},
        {"code": "NodeInProcess", "name": "Offline process check"},
    ]
}
Pkg = tuple[int, int | None, str | None, str | None] | None


def _status(stage: dict[str, Any], dev: Pkg, prod: Pkg) -> tuple[str, str | None]:
    if stage["status"] is not None:
        return stage["status"], stage["message"]
    if not stage["triggered"]:
        return "Init", None
    code = stage["code"]
    pkg = dev if code in ("DEV_CHECK", "DEV") else prod
    if pkg is None:
        return "Running", None
    status, checking, error, hold = pkg
    if code.endswith("CHECK"):
        if status == 0 and hold == "checks":
            return "Running", None
        if checking == 7:
            return "Fail", error or "Pre-deployment checks failed."
        return ("Cancel", error) if status != 0 and checking is not None else ("Success", None)
    named = {0: "Running", 1: "Success", 6: "Termination"}
    return named.get(status, "Fail"), None if status in (0, 1) else error


def _run_status(stages: list[dict[str, Any]], cancelled: bool) -> tuple[str, str]:
    if cancelled:
        return "Cancel", "The pipeline run was abolished."
    statuses = [s["Status"] for s in stages]
    for bad, verb in (("Termination", "was rejected"), ("Fail", "failed")):
        if bad in statuses:
            stage = stages[statuses.index(bad)]
            return bad, stage.get("Message") or f"Stage {stage['Code']} {verb}."
    return ("Success" if all(s == "Success" for s in statuses) else "Running"), ""


def get_pipeline_run(db: sqlite3.Connection, params: dict[str, str]) -> dict[str, Any]:
    row = db.execute(_RUN, (params["Id"],)).fetchone()
    if row is None or row[0] != int(params["ProjectId"]):
        return {"Code": "InvalidPipelineRun.NotFound"}
    dev = db.execute(_PACKAGE, (row[7],)).fetchone() if row[7] else None
    prod = db.execute(_PACKAGE, (row[8],)).fetchone() if row[8] else None
    stages: list[dict[str, Any]] = []
    for step, stage in enumerate(orjson.loads(row[6]), start=1):
        status, message = _status(stage, dev, prod)
        if row[9] and status in ("Init", "Running"):
            status = "Cancel"
        kind, name, description = _INFO[stage["code"]]
        doc: dict[str, Any] = {
            "Code": stage["code"], "Name": name, "Description": description, "Type": kind,
            "Step": step, "Status": status,
            "Detail": _BUILD_DETAIL if stage["code"] == "BUILD_PACKAGE" else {},
        }  # fmt: skip
        if status != "Init":
            doc["Message"] = message or ""
        stages.append(doc)
    run_status, run_message = _run_status(stages, bool(row[9]))
    return {
        "Pipeline": {
            "Id": params["Id"], "ProjectId": row[0], "Creator": row[2], "CreateTime": row[3],
            "ModifyTime": row[4], "Description": row[5], "Message": run_message,
            "Status": run_status, "Stages": stages,
        }
    }  # fmt: skip
