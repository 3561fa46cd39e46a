"""Seeded pipeline runs (2024-05-18): the mirror run each seeded 2020 package would have.

A real server gives every package SubmitFile / DeployFile make a *mirror* run (origin
``package``, every stage triggered; ``openworks.core.run_packages.mirror``), linked both
ways: ``packages.run_id`` names the run, the run keeps the package as its development or
production package. The seed writes those rows in the same batches as the packages::

    package from 0 to 1 (commit, standard)   BUILD_PACKAGE (Success), DEV_CHECK, DEV   dev
    package from 1 to 2 (deploy)             PROD_CHECK, PROD                          prod

Status and Message are what ``run_stages.derive`` gives for a settled package: Success, or
Fail with the package's ErrorMessage. Run ids are uuid-shaped and follow from the package
id (:func:`run_id`), so a request maker needs no list of a million ids.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["RUN_PREFIX", "run_id", "run_row"]

RUN_PREFIX = "b0000000-0000-4000-8000-"


def run_id(package_id: int) -> str:
    """The seeded mirror run of a seeded package."""
    return f"{RUN_PREFIX}{package_id:012x}"


def _stages(deploy: bool) -> str:
    codes = ("PROD_CHECK", "PROD") if deploy else ("BUILD_PACKAGE", "DEV_CHECK", "DEV")
    return orjson.dumps(
        [
            {
                "code": c,
                "triggered": True,
                "status": "Success" if c == "BUILD_PACKAGE" else None,
                "message": None,
            }
            for c in codes
        ]
    ).decode()


_STAGES = {True: _stages(True), False: _stages(False)}


def run_row(package: dict[str, Any], file_id: int) -> dict[str, Any]:
    """The ``pipeline_runs`` row mirroring one seeded ``packages`` row (a dict of it)."""
    deploy = package["from_env"] == 1
    failed = package["status"] != 1
    pid = package["id"]
    return {
        "id": run_id(pid), "project_id": package["project_id"], "type": "Online",
        "object_id": file_id, "object_type": "Node", "creator": package["creator_id"],
        "description": package["comment"], "run_mode": "Normal", "auto_until": None,
        "stages": _STAGES[deploy], "dev_package_id": None if deploy else pid,
        "prod_package_id": pid if deploy else None, "cancelled": False, "origin": "package",
        "status": "Fail" if failed else "Success",
        "message": package["error_message"] if failed else "",
        "create_time": package["create_time"], "modify_time": package["execute_time"],
    }  # fmt: skip
