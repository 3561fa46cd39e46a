"""Folders, workflows (businesses) and the FileType table, through each official client."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from .clients import CallFailed, LegacyClient, TeaClient
from .conftest import DEV_KEY, RunningServer, unique

Client = TeaClient | LegacyClient


def fails(client: Client, action: str, **params: object) -> CallFailed:
    with pytest.raises(CallFailed) as err:
        client.call(action, **params)
    return err.value


def test_folder_crud_and_rules(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project()
    wf = unique("wf")
    fid = client.call(
        "CreateFolder", ProjectId=pid, FolderPath=f"Business Flow/{wf}/MaxCompute/a/b"
    )
    fid = fid["Data"]
    got = client.call("GetFolder", ProjectId=pid, FolderId=fid)["Data"]
    assert got == {"FolderId": fid, "FolderPath": f"业务流程/{wf}/MaxCompute/a/b"}
    by_alias = client.call(
        "GetFolder", ProjectId=pid, FolderPath=f"business flow/{wf}/folderMaxCompute/a/b"
    )
    assert by_alias["Data"]["FolderId"] == fid

    # mkdir -p made the workflow (a business) and the engine folder too
    names = [b["BusinessName"] for b in client.call(
        "ListBusiness", ProjectId=pid, PageNumber=1, PageSize=100)["Data"]["Business"]]  # fmt: skip
    assert names == [wf]
    listed = client.call(
        "ListFolders", ProjectId=pid, ParentFolderPath=f"业务流程/{wf}", PageNumber=1, PageSize=10
    )["Data"]
    assert [f["FolderPath"] for f in listed["Folders"]] == [f"业务流程/{wf}/MaxCompute"]
    roots = client.call(
        "ListFolders", ProjectId=pid, ParentFolderPath="Business Flow", PageNumber=1, PageSize=10
    )["Data"]
    assert roots["TotalCount"] == 1 and roots["Folders"][0]["FolderPath"] == f"业务流程/{wf}"

    err = fails(client, "CreateFolder", ProjectId=pid, FolderPath=f"业务流程/{wf}/MaxCompute/a")
    assert (err.code, err.status) == ("Invalid.Folder.Exists", 400)
    for bad in ("数据开发/业务流程/x/MaxCompute", f"业务流程/{wf}/NoSuchEngine/x",
                f"业务流程/{wf}/MaxCompute/1/2/3/4/5"):  # fmt: skip
        err = fails(client, "CreateFolder", ProjectId=pid, FolderPath=bad)
        assert (err.code, err.status) == ("Invalid.Folder.Path", 400), bad

    # renaming a folder moves what is below it
    a_id = client.call("GetFolder", ProjectId=pid, FolderPath=f"业务流程/{wf}/MaxCompute/a")
    a_id = a_id["Data"]["FolderId"]
    client.call("UpdateFolder", ProjectId=pid, FolderId=a_id, FolderName="a2")
    moved = client.call("GetFolder", ProjectId=pid, FolderId=fid)["Data"]["FolderPath"]
    assert moved == f"业务流程/{wf}/MaxCompute/a2/b"
    engine = client.call("GetFolder", ProjectId=pid, FolderPath=f"业务流程/{wf}/MaxCompute")
    err = fails(
        client, "UpdateFolder", ProjectId=pid, FolderId=engine["Data"]["FolderId"], FolderName="X"
    )
    assert err.code == "Invalid.Folder.Fixed"

    err = fails(client, "DeleteFolder", ProjectId=pid, FolderId=a_id)
    assert (err.code, err.status) == ("Invalid.Folder.NotEmpty", 400) and "b" in err.message
    client.call("DeleteFolder", ProjectId=pid, FolderId=fid)
    client.call("DeleteFolder", ProjectId=pid, FolderId=a_id)
    err = fails(client, "GetFolder", ProjectId=pid, FolderId=a_id)
    assert (err.code, err.status) == ("InvalidFolder.NotFound", 404)


def test_files_in_folders(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project()
    wf, other = unique("wf"), unique("wf")
    path = f"Business Flow/{wf}/MaxCompute/ods"
    err = fails(client, "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10,
                FileFolderPath=path)  # fmt: skip
    assert (err.code, err.status) == ("Invalid.Folder.NotExists", 400)
    err = fails(client, "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10,
                FileFolderPath=f"业务流程/{wf}", CreateFolderIfNotExists=True)  # fmt: skip
    assert err.code == "Invalid.Folder.Path"

    file_id = client.call(
        "CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10, Content="SELECT 1",
        FileFolderPath=path, CreateFolderIfNotExists=True,
    )["Data"]  # fmt: skip
    biz = client.call("ListBusiness", ProjectId=pid, Keyword=wf, PageNumber=1, PageSize=10)
    biz_id = biz["Data"]["Business"][0]["BusinessId"]
    folder = client.call("GetFolder", ProjectId=pid, FolderPath=path)["Data"]
    f = client.call("GetFile", ProjectId=pid, FileId=file_id)["Data"]["File"]
    assert (f["BusinessId"], f["BizId"], f["FileFolderId"]) == (biz_id, biz_id, folder["FolderId"])
    listed = client.call("ListFiles", ProjectId=pid, FileFolderPath=f"Business Flow/{wf}",
                         NeedAbsoluteFolderPath=True)["Data"]["Files"]  # fmt: skip
    assert [(x["FileId"], x["AbsoluteFolderPath"]) for x in listed] == [
        (file_id, f"业务流程/{wf}/MaxCompute/ods")
    ]

    # non-empty folder and workflow cannot be deleted
    err = fails(client, "DeleteFolder", ProjectId=pid, FolderId=folder["FolderId"])
    assert err.code == "Invalid.Folder.NotEmpty" and "1 file" in err.message
    err = fails(client, "DeleteBusiness", ProjectId=pid, BusinessId=biz_id)
    assert err.code == "Invalid.Folder.NotEmpty"

    # moving the file to another workflow changes its BusinessId; the old one empties
    other_id = client.call("CreateBusiness", ProjectId=pid, BusinessName=other)["BusinessId"]
    client.call("CreateFolder", ProjectId=pid, FolderPath=f"业务流程/{other}/通用")
    client.call("UpdateFile", ProjectId=pid, FileId=file_id,
                FileFolderPath=f"Business Flow/{other}/General")  # fmt: skip
    f = client.call("GetFile", ProjectId=pid, FileId=file_id)["Data"]["File"]
    assert f["BusinessId"] == other_id
    client.call("DeleteFolder", ProjectId=pid, FolderId=folder["FolderId"])
    client.call("DeleteBusiness", ProjectId=pid, BusinessId=biz_id)

    # no FileFolderPath: the file sits outside any workflow
    loose = client.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=6)["Data"]
    f = client.call("GetFile", ProjectId=pid, FileId=loose)["Data"]["File"]
    assert f.get("BusinessId") is None and f.get("FileFolderId") is None


def test_business_crud(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project()
    name = unique("flow")
    bid = client.call("CreateBusiness", ProjectId=pid, BusinessName=name, Description="d1",
                      Owner="1234", UseType="NORMAL")["BusinessId"]  # fmt: skip
    got = client.call("GetBusiness", ProjectId=pid, BusinessId=bid)["Data"]
    assert got == {"BusinessId": bid, "BusinessName": name, "Description": "d1",
                   "Owner": "1234", "ProjectId": str(pid), "UseType": "NORMAL"}  # fmt: skip
    err = fails(client, "CreateBusiness", ProjectId=pid, BusinessName=name.upper())
    assert (err.code, err.status) == ("Invalid.Business.NameExists", 400)
    manual = client.call("CreateBusiness", ProjectId=pid, BusinessName=unique("m"),
                         UseType="MANUAL_BIZ")["BusinessId"]  # fmt: skip
    m = client.call("GetBusiness", ProjectId=pid, BusinessId=manual)["Data"]
    client.call("GetFolder", ProjectId=pid, FolderPath=f"手动业务流程/{m['BusinessName']}")

    file_id = client.call("CreateFile", ProjectId=pid, FileName=unique("f"), FileType=10,
                          FileFolderPath=f"业务流程/{name}/MaxCompute",
                          CreateFolderIfNotExists=True)["Data"]  # fmt: skip
    renamed = unique("renamed")
    client.call("UpdateBusiness", ProjectId=pid, BusinessId=bid, BusinessName=renamed,
                Description="d2")  # fmt: skip
    got = client.call("GetBusiness", ProjectId=pid, BusinessId=bid)["Data"]
    assert (got["BusinessName"], got["Description"], got["Owner"]) == (renamed, "d2", "1234")
    listed = client.call("ListFiles", ProjectId=pid, FileFolderPath=f"业务流程/{renamed}",
                         NeedAbsoluteFolderPath=True)["Data"]["Files"]  # fmt: skip
    assert listed[0]["FileId"] == file_id
    assert listed[0]["AbsoluteFolderPath"] == f"业务流程/{renamed}/MaxCompute"

    page = client.call("ListBusiness", ProjectId=pid, PageNumber=1, PageSize=1)["Data"]
    assert page["TotalCount"] == 2 and len(page["Business"]) == 1
    assert page["Business"][0]["ProjectId"] == pid
    client.call("DeleteFile", ProjectId=pid, FileId=file_id)
    client.call("DeleteBusiness", ProjectId=pid, BusinessId=bid)
    err = fails(client, "GetBusiness", ProjectId=pid, BusinessId=bid)
    assert (err.code, err.status) == ("InvalidBusiness.NotFound", 404)


def test_list_file_type_locales(client: Client, new_project: Callable[..., int]) -> None:
    pid = new_project()

    def names(**params: object) -> dict[int, str]:
        data = client.call("ListFileType", ProjectId=pid, PageNumber=1, PageSize=100, **params)
        info = data["NodeTypeInfoList"]
        assert info["TotalCount"] == len(info["NodeTypeInfo"])
        return {i["NodeType"]: i["NodeTypeName"] for i in info["NodeTypeInfo"]}

    zh, en = names(Locale="zh-CN"), names(Locale="en-US")
    assert (zh[23], en[23]) == ("离线同步", "Batch synchronization")
    assert (zh[99], en[99]) == ("虚拟节点", "Zero-load node")
    assert zh[10] == en[10] == "ODPS SQL" and set(zh) == set(en)
    assert names(Locale="en_US", Keyword="spark") == {
        225: "ODPS Spark", 228: "EMR Spark", 229: "EMR Spark SQL", 258: "EMR Spark Shell",
        264: "EMR Spark Streaming",
    }  # fmt: skip
    paged = client.call("ListFileType", ProjectId=pid, PageNumber=2, PageSize=5)
    assert len(paged["NodeTypeInfoList"]["NodeTypeInfo"]) == 5
    err = fails(client, "ListFileType", ProjectId=pid, PageNumber=1, PageSize=5, Locale="fr")
    assert (err.code, err.status) == ("Invalid.Param", 400)


def test_concurrent_creates_into_one_new_folder_all_succeed(server: RunningServer) -> None:
    """Clients that create files at once with CreateFolderIfNotExists into the same missing
    path (a workflow, its engine folder, a subfolder) all succeed; one of each is made."""
    first = TeaClient(server.endpoint, *DEV_KEY)
    ident = unique("race")
    pid = first.call("CreateProject", ProjectName=ident, ProjectIdentifier=ident, ProjectMode=3)[
        "Data"
    ]
    wf, clients = unique("wf"), 12
    barrier = threading.Barrier(clients)

    def create(i: int) -> object:
        tea = TeaClient(server.endpoint, *DEV_KEY)
        barrier.wait()
        try:
            return tea.call(
                "CreateFile", ProjectId=pid, FileName=f"f{i}", FileType=10, Content="select 1;",
                FileFolderPath=f"Business Flow/{wf}/MaxCompute/sub", CreateFolderIfNotExists=True,
            )["Data"]  # fmt: skip
        except CallFailed as failed:
            return failed

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(create, range(clients)))
    assert [r for r in results if not isinstance(r, int)] == []
    flows = first.call("ListBusiness", ProjectId=pid, PageNumber=1, PageSize=100)["Data"]
    assert [b["BusinessName"] for b in flows["Business"]] == [wf]
    listed = first.call(
        "ListFolders", ProjectId=pid, ParentFolderPath=f"业务流程/{wf}/MaxCompute",
        PageNumber=1, PageSize=10,
    )["Data"]  # fmt: skip
    assert [f["FolderPath"] for f in listed["Folders"]] == [f"业务流程/{wf}/MaxCompute/sub"]
