"""What a function needs at deployment: the resources it names, deployed to the target.

A function (FileType 17) names resources by file name (2020 ``Resources``, 2024
``resources``). The checks gate (:class:`openworks.core.checks.ChecksGate`) runs
:func:`missing_resources` for every function item of a new package: a resource is in DEV once
committed, in PROD once deployed, or ships in the same package; anything else fails the
package's checks with a message naming what is missing.
"""

from __future__ import annotations

from collections.abc import Collection

from .flowspec_objects import FUNCTION_FILE_TYPE, function_record
from .model import Env, File, FileVersion, Project
from .ports import Tx
from .resources import is_resource

__all__ = ["is_function", "missing_resources"]


def is_function(file_type: int) -> bool:
    return file_type == FUNCTION_FILE_TYPE


def missing_resources(
    tx: Tx,
    project: Project,
    function: File | FileVersion,
    env: Env,
    shipping: Collection[int] = (),
) -> list[str]:
    """The resources ``function`` needs that are not deployed to ``env``, by name.

    A resource is in DEV once committed (it has a version), in PROD once its
    ``prod_version`` is set; a resource deployed in the same package (its FileId in
    ``shipping``) counts as deployed. A name that is no live resource file is missing."""
    missing = []
    for name in function_record(function.config).get("resources") or []:
        file = tx.file_by_name(project.id, name)
        if file is None or not is_resource(file.file_type):
            missing.append(name)
            continue
        if file.id in shipping:
            continue
        deployed = file.prod_version if env == Env.PROD else file.current_version
        if deployed is None:
            missing.append(name)
    return missing
