"""The overlay of DataWorks 2024-05-18 over ``contracts/2024-05-18.json``.

Serving an operation is a line in :data:`OPERATIONS` (read or write, permission rule,
parameters required beyond the contract, the parameter naming the workspace), the bounds of
its parameters in :data:`PARAMS` and a handler registered with
``@handles("Name", version="2024-05-18")`` (``openworks.api.v2024``). Several names
(GetProject, ListProjects, GetNode...) mean other operations than in 2020-05-18: their lines
here are their own. The 2020 DataStudio operations this version still carries take their
2020 lines (:data:`LEGACY_RENAMED` maps the two renamed package reads).

Groups with lines (the contract's ``group``): project, member, node, workflow_definition,
pipeline, legacy_datastudio, resource, function, snapshot, scheduler_task,
cross_project_pipeline; an operation whose handler is not written yet answers
``InvalidApi.NotFound``.
"""

from __future__ import annotations

from collections.abc import Mapping

from openworks.core.roles import Permission as P
from openworks.core.roles import Rule

from ..overlay import Access, Op, Overlay, ParamRules
from . import v2020_05_18 as v2020

__all__ = ["LEGACY_RENAMED", "OPERATIONS", "OVERLAY", "PARAMS", "VERSION"]

VERSION = "2024-05-18"

READ, WRITE = Access.READ, Access.WRITE
_READ = Op(READ, Rule(P.READ))
_DEVELOP = Op(WRITE, Rule(P.DEVELOP))
_MANAGE = Op(WRITE, Rule(P.MANAGE))

# 2024 name -> the 2020 operation it is, wire-identical apart from the version.
LEGACY_RENAMED: Mapping[str, str] = {
    "GetDeploymentPackage": "GetDeployment",
    "ListDeploymentPackages": "ListDeployments",
}
_LEGACY = (
    "SubmitFile",
    "DeployFile",
    "CreateFile",
    "UpdateFile",
    "GetFile",
    "ListFiles",
    "DeleteFile",
    "ListFileVersions",
    "GetFileVersion",
    "CreateFolder",
    "UpdateFolder",
    "GetFolder",
    "ListFolders",
    "DeleteFolder",
    "CreateBusiness",
    "GetBusiness",
    "ListBusiness",
    "UpdateBusiness",
    "DeleteBusiness",
    "GetIDEEventDetail",
    "UpdateIDEEventResult",
    "EstablishRelationTableToBusiness",
    "CreateResourceFile",
    "CreateUdfFile",
    "UpdateUdfFile",
)

OPERATIONS: Mapping[str, Op] = {
    # -- project: the workspace is named by Id -------------------------------------------
    "CreateProject": Op(WRITE, Rule(P.ACCOUNT_WRITE)),
    "ListProjects": Op(READ, Rule(P.ACCOUNT_READ)),
    "GetProject": Op(READ, Rule(P.READ), project_param="Id"),
    "UpdateProject": Op(WRITE, Rule(P.MANAGE), project_param="Id"),
    "DeleteProject": Op(WRITE, Rule(P.MANAGE), project_param="Id"),
    # -- member ------------------------------------------------------------------------------
    "ListProjectMembers": _READ,
    "GetProjectMember": _READ,
    "ListProjectRoles": _READ,
    "GetProjectRole": _READ,
    "CreateProjectMember": _MANAGE,
    "DeleteProjectMember": _MANAGE,
    "GrantMemberProjectRoles": _MANAGE,
    "RevokeMemberProjectRoles": _MANAGE,
    # -- node (a node is a file) -----------------------------------------------------------
    "CreateNode": _DEVELOP,
    "UpdateNode": _DEVELOP,
    "DeleteNode": _DEVELOP,
    "MoveNode": _DEVELOP,
    "RenameNode": _DEVELOP,
    # GetNode's ProjectId is optional (SDK 9.11.0): the handler checks the node's workspace
    "GetNode": _READ,
    "ListNodes": _READ,
    "ListNodeDependencies": _READ,
    # -- workflow definitions (business flows) ------------------------------------------
    "CreateWorkflowDefinition": _DEVELOP,
    "ImportWorkflowDefinition": _DEVELOP,
    "UpdateWorkflowDefinition": _DEVELOP,
    "DeleteWorkflowDefinition": _DEVELOP,
    "MoveWorkflowDefinition": _DEVELOP,
    "RenameWorkflowDefinition": _DEVELOP,
    "GetWorkflowDefinition": _READ,
    "ListWorkflowDefinitions": _READ,
    # -- pipeline runs: developers create and advance them; the PROD stage needs the
    # deploy permission, checked by core when that stage is executed ---------------------
    "CreatePipelineRun": _DEVELOP,
    # any member reaches core, which checks the stage: PROD needs the deploy permission
    # (O&M included), the other stages development
    "ExecPipelineRunStage": Op(WRITE, Rule(P.READ)),
    "AbolishPipelineRun": _DEVELOP,
    "GetPipelineRun": _READ,
    "ListPipelineRuns": _READ,
    "ListPipelineRunItems": _READ,
    # the names older 2024 SDKs gave pipeline runs (contracts/2024-05-18.added.json)
    "CreateDeployment": _DEVELOP,
    "ExecDeploymentStage": Op(WRITE, Rule(P.READ)),  # as ExecPipelineRunStage
    "AbolishDeployment": _DEVELOP,
    "GetDeployment": _READ,
    "ListDeployments": _READ,
    # -- resources and functions (files of resource and function types) ------------------
    "CreateResource": _DEVELOP,
    "UpdateResource": _DEVELOP,
    "DeleteResource": _DEVELOP,
    "MoveResource": _DEVELOP,
    "RenameResource": _DEVELOP,
    "GetResource": _READ,
    "ListResources": _READ,
    "CreateFunction": _DEVELOP,
    "UpdateFunction": _DEVELOP,
    "DeleteFunction": _DEVELOP,
    "MoveFunction": _DEVELOP,
    "RenameFunction": _DEVELOP,
    "GetFunction": _READ,
    "ListFunctions": _READ,
    # -- snapshots and scheduler tasks: no ProjectId in the request (ListSnapshots names
    # the object, GetSnapshot/GetTask only an id): the handler finds the workspace and
    # checks it ----------------------------------------------------------------------------
    "ListSnapshots": _READ,
    "GetSnapshot": _READ,
    "GetTask": _READ,
    "ListTasks": _READ,
    # -- the 2020 DataStudio operations still in 2024 ------------------------------------
    **{name: v2020.OPERATIONS[name] for name in _LEGACY},
    **{name: v2020.OPERATIONS[old] for name, old in LEGACY_RENAMED.items()},
    # new in 2024: the files of packages (the items of ListDeploymentPackages' packages)
    "ListDeploymentPackageFiles": _READ,
    # -- cross-workspace runs: ProjectId is the SOURCE workspace; writes need its owner or
    # an admin, and core checks the same role in the environment's target workspace ------
    "ListCrossProjectDeploymentEnvironments": _READ,
    "ListCrossProjectDeploymentCandidates": _READ,
    "CreateCrossProjectPipelineRun": _MANAGE,
    "ExecCrossProjectPipelineRun": _MANAGE,
    "AbolishCrossProjectPipelineRun": _MANAGE,
    "GetCrossProjectPipelineRun": _READ,
    "ListCrossProjectPipelineRuns": _READ,
    "ListCrossProjectPipelineRunItems": _READ,
}

PARAMS = ParamRules(
    long=frozenset(
        {
            *v2020.LONG,
            "Id",  # GetProject / UpdateProject / DeleteProject / GetTask: Long
            "WorkflowId",
            "DeploymentEnvironmentId",
            "CreateTimeFrom",
            "CreateTimeTo",
            "CommitTimeFrom",
            "CommitTimeTo",
            "SolutionId",
        }
    ),
    integer=frozenset({*v2020.INTEGER, "ChangeType", "CommitStatus"}),
    ranges={"PageNumber": (1, v2020.PAGE_NUMBER_MAX), "PageSize": (1, v2020.PAGE_SIZE_MAX)},
    int_lists=v2020.INT_LISTS,
    max_items={"Tags": v2020.MAX_TAGS, "AliyunResourceTags": v2020.MAX_TAGS},
    # texts stored in a column narrower than 4 KiB (projects.name and resource_group_id: 128)
    text_limits={
        **v2020.TEXT_LIMITS,
        "Name": 256,
        "DisplayName": 128,
        "AliyunResourceGroupId": 128,
        "Code": 128,
    },
    long_text=frozenset({*v2020.LONG_TEXT, "Spec", "Description"}),
    text_limit=4_096,
    long_text_limit=1_048_576,
    list_items=v2020.MAX_LIST_ITEMS,
)

OVERLAY = Overlay(version=VERSION, operations=OPERATIONS, params=PARAMS)
