"""EstablishRelationTableToBusiness (2020, and 2024-05-18 as a legacy DataStudio operation):
a table shown in a workflow, through the Tea SDK, the legacy request class and the 2024 SDK.
What it records is shown by the console's Files page (tests/console/test_console_workflows.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from openworks.core.folder_model import TableRelation
from openworks.core.table_relations import parse_guid
from openworks.store import make_engine
from openworks.store.repo import SqlStore

from .clients import CallFailed, LegacyClient, Tea2024Client, TeaClient
from .conftest import RunningServer, unique

Client = TeaClient | LegacyClient


def fails(client: Client, action: str, **params: object) -> CallFailed:
    with pytest.raises(CallFailed) as err:
        client.call(action, **params)
    return err.value


def workflow(client: Client, pid: int) -> tuple[int, str, str]:
    """A workflow with an engine folder: (BusinessId, its name, the folder's FolderId)."""
    name = unique("wf")
    folder = client.call(
        "CreateFolder", ProjectId=pid, FolderPath=f"业务流程/{name}/MaxCompute/tables"
    )["Data"]
    listed = client.call("ListBusiness", ProjectId=pid, Keyword=name, PageNumber=1, PageSize=10)
    return int(listed["Data"]["Business"][0]["BusinessId"]), name, str(folder)


def relations(server: RunningServer, pid: int, business_id: int) -> list[TableRelation]:
    store = SqlStore(make_engine(server.database_url))
    try:
        with store.transaction() as tx:
            return [r for r in tx.table_relations(business_id) if r.project_id == pid]
    finally:
        store.engine.dispose()


def test_establish_records_and_moves_the_relation(
    client: Client, new_project: Callable[..., int], server: RunningServer
) -> None:
    pid = new_project()
    bid, _name, folder = workflow(client, pid)
    other, _other_name, _ = workflow(client, pid)
    body = client.call(
        "EstablishRelationTableToBusiness",
        ProjectId=pid,
        BusinessId=str(bid),
        TableGuid="odps.sales.ods_orders",
        FolderId=folder,
    )
    assert body["Success"] is True and body["RequestId"]
    client.call(
        "EstablishRelationTableToBusiness",
        ProjectId=pid,
        BusinessId=str(bid),
        TableGuid="odps.sales.dim_shop",
    )
    shown = relations(server, pid, bid)
    assert [(r.table_guid, r.folder_id) for r in shown] == [
        ("odps.sales.dim_shop", None),
        ("odps.sales.ods_orders", folder),
    ]
    # once more into another workflow: the table moves (one workflow per table)
    client.call(
        "EstablishRelationTableToBusiness",
        ProjectId=pid,
        BusinessId=str(other),
        TableGuid="odps.sales.ods_orders",
    )
    assert [r.table_guid for r in relations(server, pid, bid)] == ["odps.sales.dim_shop"]
    assert [r.table_guid for r in relations(server, pid, other)] == ["odps.sales.ods_orders"]


def test_deleting_the_folder_or_the_workflow(
    tea: TeaClient, new_project: Callable[..., int], server: RunningServer
) -> None:
    pid = new_project()
    bid, name, folder = workflow(tea, pid)
    tea.call(
        "EstablishRelationTableToBusiness",
        ProjectIdentifier=tea.call("GetProject", ProjectId=pid)["Data"]["ProjectIdentifier"],
        BusinessId=str(bid),
        TableGuid="odps.sales.ods_orders",
        FolderId=folder,
    )
    tea.call("DeleteFolder", ProjectId=pid, FolderId=folder)
    assert [(r.table_guid, r.folder_id) for r in relations(server, pid, bid)] == [
        ("odps.sales.ods_orders", None)
    ]
    engine = tea.call("GetFolder", ProjectId=pid, FolderPath=f"业务流程/{name}/MaxCompute")
    tea.call("DeleteFolder", ProjectId=pid, FolderId=engine["Data"]["FolderId"])
    tea.call("DeleteBusiness", ProjectId=pid, BusinessId=bid)  # tables never block it
    assert relations(server, pid, bid) == []


def test_bad_input_is_a_clear_4xx(client: Client, new_project: Callable[..., int]) -> None:
    pid, elsewhere = new_project(), new_project()
    bid, _name, folder = workflow(client, pid)
    other, _other_name, other_folder = workflow(client, pid)
    foreign, _f, foreign_folder = workflow(client, elsewhere)
    good = "odps.sales.ods_orders"
    cases: list[tuple[dict[str, object], str, int]] = [
        ({"BusinessId": "999999999", "TableGuid": good}, "InvalidBusiness.NotFound", 404),
        ({"BusinessId": str(foreign), "TableGuid": good}, "InvalidBusiness.NotFound", 404),
        ({"BusinessId": "wf", "TableGuid": good}, "Invalid.BusinessId", 400),
        ({"BusinessId": str(bid), "TableGuid": good, "FolderId": "nope"},
         "InvalidFolder.NotFound", 404),
        ({"BusinessId": str(bid), "TableGuid": good, "FolderId": foreign_folder},
         "InvalidFolder.NotFound", 404),
        ({"BusinessId": str(bid), "TableGuid": good, "FolderId": other_folder},
         "Invalid.Folder.Business", 400),
    ]  # fmt: skip
    for bad in ("ods_orders", "odps.ods_orders", "odps..t", "odps.a b.t", "1dps.a.t",
                "odps.a.b.c.d.e", "odps.p." + "t" * 300, "odps.p.t;drop"):  # fmt: skip
        cases.append(({"BusinessId": str(bid), "TableGuid": bad}, "Invalid.TableGuid", 400))
    for params, code, status in cases:
        err = fails(client, "EstablishRelationTableToBusiness", ProjectId=pid, **params)
        assert (err.code, err.status) == (code, status), params
        assert err.message, params
    assert other and folder


def test_served_at_2024_05_18(tea24: Tea2024Client, server: RunningServer) -> None:
    pid = int(
        tea24.call(
            "CreateProject", Name=unique("ws"), DisplayName="tables", DevEnvironmentEnabled=True
        )["Id"]
    )
    name = unique("wf")
    bid = tea24.call("CreateBusiness", ProjectId=pid, BusinessName=name)["BusinessId"]
    body = tea24.call(
        "EstablishRelationTableToBusiness",
        ProjectId=pid,
        BusinessId=str(bid),
        TableGuid="emr.cluster1.sales.ods_orders",
    )
    assert body["Success"] is True
    assert [r.table_guid for r in relations(server, pid, int(bid))] == [
        "emr.cluster1.sales.ods_orders"
    ]
    err = fails(tea24, "EstablishRelationTableToBusiness", ProjectId=pid, BusinessId=str(bid),
                TableGuid="not a table")  # fmt: skip
    assert (err.code, err.status) == ("Invalid.TableGuid", 400)


@pytest.mark.parametrize(
    "guid",
    ["odps.sales.ods_orders", "odps.sales.default.ods_orders", "holo.i1.db.public.t_1",
     "emr.C-1.db.t$x"],
)  # fmt: skip
def test_table_guid_shapes(guid: str) -> None:
    assert parse_guid(guid) == guid
