"""The overlay of DataWorks 2020-05-18: our facts over the contract ``contracts/2020-05-18.json``.

Besides the generated contract, this module is the only place where a fact about a 2020
operation lives: a line per operation (read or write, the permission rule, parameters
required beyond the contract) and the bounds of its parameters. The role matrix of
docs/security.md is rendered from :data:`OVERLAY` (``openworks.api.spec.matrix``).

The contract says only "int" for numbers and "str" for comma-separated lists; the tables
below add what the official reference states, so every parameter arrives bounded: the
width of each integer (Long 64-bit, Integer 32-bit), paging ranges, which strings are lists
of integers and how many elements a list may have (see docs/security.md, "Parameter
bounds").
"""

from __future__ import annotations

from collections.abc import Mapping

from openworks.core.roles import Permission as P
from openworks.core.roles import Rule
from openworks.protocol.params import INT32_RANGE, MAX_ITEMS

from ..overlay import Access, Op, Overlay, ParamRules

__all__ = [
    "INTEGER",
    "INT_LISTS",
    "LONG",
    "MAX_LIST_ITEMS",
    "MAX_TAGS",
    "OPERATIONS",
    "OVERLAY",
    "PAGE_NUMBER_MAX",
    "PAGE_SIZE_MAX",
    "TEXT_LIMITS",
    "VERSION",
]

VERSION = "2020-05-18"

# -- operations ---------------------------------------------------------------------------
# Read or write as DataWorks counts them (CheckFileDeployment reports a result: a write
# despite its name); the permission each needs (core.roles: who holds which permission). An
# operation without a line here is not served.

READ, WRITE = Access.READ, Access.WRITE
_READ = Op(READ, Rule(P.READ))
_DEVELOP = Op(WRITE, Rule(P.DEVELOP))
# commits: development in standard workspaces, production in basic ones
_COMMIT = Op(WRITE, Rule(P.DEVELOP, basic=P.DEPLOY))
_DEPLOY = Op(WRITE, Rule(P.DEPLOY))
_MANAGE = Op(WRITE, Rule(P.MANAGE))

OPERATIONS: Mapping[str, Op] = {
    # account level: no workspace in the request
    "CreateProject": Op(WRITE, Rule(P.ACCOUNT_WRITE)),
    "ListProjects": Op(READ, Rule(P.ACCOUNT_READ)),
    "ListExtensions": Op(READ, Rule(P.ACCOUNT_READ)),
    "GetExtension": Op(READ, Rule(P.ACCOUNT_READ)),
    "CallbackExtension": Op(WRITE, Rule(P.ACCOUNT_ADMIN)),
    "UpdateIDEEventResult": Op(WRITE, Rule(P.ACCOUNT_ADMIN)),
    "CheckFileDeployment": Op(WRITE, Rule(P.ACCOUNT_ADMIN)),
    # workspace reads
    "GetProject": _READ,
    "ListProjectMembers": _READ,
    "ListProjectRoles": _READ,
    "GetFile": _READ,
    "ListFiles": _READ,
    "GetFileVersion": _READ,
    "ListFileVersions": _READ,
    "ListFileType": _READ,
    "GetFolder": _READ,
    "ListFolders": _READ,
    "GetBusiness": _READ,
    "ListBusiness": _READ,
    "GetDeployment": _READ,
    "ListDeployments": _READ,
    "GetNode": _READ,
    "GetNodeCode": _READ,
    "ListNodes": _READ,
    "GetNodeParents": _READ,
    "GetNodeChildren": _READ,
    "GetIDEEventDetail": _READ,
    # processes are listed per workspace: ProjectId is required although the contract
    # leaves it optional
    "ListCheckProcesses": Op(READ, Rule(P.READ), required=frozenset({"ProjectId"})),
    # development
    "CreateFile": _DEVELOP,
    "UpdateFile": _DEVELOP,
    "CreateResourceFile": _DEVELOP,
    "CreateUdfFile": _DEVELOP,
    "UpdateUdfFile": _DEVELOP,
    "CreateFolder": _DEVELOP,
    "UpdateFolder": _DEVELOP,
    "DeleteFolder": _DEVELOP,
    "CreateBusiness": _DEVELOP,
    "UpdateBusiness": _DEVELOP,
    "DeleteBusiness": _DEVELOP,
    "EstablishRelationTableToBusiness": _DEVELOP,
    "SubmitFile": _COMMIT,
    "DeleteFile": _COMMIT,
    # production
    "DeployFile": _DEPLOY,
    "OfflineNode": _DEPLOY,
    # member management
    "CreateProjectMember": _MANAGE,
    "DeleteProjectMember": _MANAGE,
    "AddProjectMemberToRole": _MANAGE,
    "RemoveProjectMemberFromRole": _MANAGE,
}

# -- parameters -----------------------------------------------------------------------------

# Texts stored in a column narrower than the short limit (4 KiB): longer is InvalidParameter
# on both backends (SQLite would keep them, PostgreSQL refuse them with a 500).
TEXT_LIMITS: Mapping[str, int] = {
    "Owner": 64,  # files.owner, businesses.owner, nodes.owner
    "ConnectionName": 256,  # files.connection_name
    "ClientToken": 128,  # projects.client_token
    "ResourceManagerResourceGroupId": 128,  # projects.resource_group_id
}
# Texts that may reach 1 MiB: file content may be large, names may not.
LONG_TEXT = frozenset(
    {
        "Content",
        "FileDescription",
        "InputParameters",
        "OutputParameters",
        "AdvancedSettings",
        "ProjectDescription",
        "Comment",
        "CheckResultTip",
        "CheckMessage",
        "ResourceFile",  # a data: URL carries a resource inline (core/resources.py)
    }
)

# The width of each integer parameter as the official API reference declares it. Ids and
# times are Long (signed 64-bit); paging, codes, counts and durations are Integer (signed
# 32-bit, also the width of their database columns). Every "int" of the contract must be
# listed in one of the two (a test checks), so a new parameter cannot arrive unbounded.
LONG = frozenset(
    {
        "ProjectId",
        "FileId",
        "DeploymentId",
        "NodeId",
        "BusinessId",
        "ResourceGroupId",
        "StartEffectDate",
        "EndEffectDate",
        "EndCreateTime",
        "EndExecuteTime",
    }
)
INTEGER = frozenset(
    {
        "PageNumber",
        "PageSize",
        "FileType",
        "FileVersion",
        "Status",
        "ProjectMode",
        "AutoRerunTimes",
        "AutoRerunIntervalMillis",
        "Timeout",
        "IsAllowDownload",
    }
)
# Narrower ranges the semantics state: pages are numbered from 1; a page holds at most 100
# (the reference: "default 10, maximum 100"). The largest offset, (2^31 - 2) * 100, is far
# inside a 64-bit SQL parameter.
PAGE_NUMBER_MAX = INT32_RANGE[1]
PAGE_SIZE_MAX = 100
# Contract strings that carry comma-separated integers ("10,23"): typed as lists of the
# element's width, at most MAX_LIST_ITEMS elements (FileIdIn: the domain allows 50).
MAX_LIST_ITEMS = MAX_ITEMS  # 1,000
INT_LISTS: Mapping[str, int] = {"FileTypes": 32, "FileIdIn": 64}
# Resource tags: at most 20 per request, as for Alibaba Cloud resource tags.
MAX_TAGS = 20

OVERLAY = Overlay(
    version=VERSION,
    operations=OPERATIONS,
    params=ParamRules(
        long=LONG,
        integer=INTEGER,
        ranges={"PageNumber": (1, PAGE_NUMBER_MAX), "PageSize": (1, PAGE_SIZE_MAX)},
        int_lists=INT_LISTS,
        max_items={"Tags": MAX_TAGS},
        text_limits=TEXT_LIMITS,
        long_text=LONG_TEXT,
        text_limit=4_096,
        long_text_limit=1_048_576,
        list_items=MAX_LIST_ITEMS,
    ),
)
