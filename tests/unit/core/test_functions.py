"""Functions (UDFs): their record, the resources they name, and the deploy rule
``missing_resources`` (a function's resources must be deployed to the target first)."""

from __future__ import annotations

import pytest

from openworks.core import files, functions, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.flowspec_objects import object_fields, render_function
from openworks.core.model import Env
from openworks.core.projects import NewProject, create_project

from .conftest import ROOT


def workspace(core: Core, mode: int = 3) -> ProjectRef:
    return ProjectRef(create_project(core, ROOT, NewProject("ws_fn", "WS", mode=mode)))


def run_all(core: Core) -> None:
    while packages.run_next_package(core) is not None:
        pass


def resource(core: Core, ref: ProjectRef, name: str) -> int:
    return files.create_file(core, ROOT, ref, 13, {"FileName": name})


def udf(core: Core, ref: ProjectRef, name: str, resources: str, **more: str) -> int:
    record = functions.udf_record(
        {"ClassName": "com.x.Upper", "FunctionType": "string", "Resources": resources, **more}
    )
    return functions.create_udf_file(core, ROOT, ref, {"FileName": name}, record)


def missing(
    core: Core, ref: ProjectRef, fid: int, env: Env, shipping: tuple[int, ...] = ()
) -> list[str]:
    with core.store.transaction() as tx:
        project = tx.project(ref.id or 0)
        assert project is not None
        file = tx.file(fid)
        assert file is not None
        return functions.missing_resources(tx, project, file, env, shipping)


def test_record_is_checked_and_normalised() -> None:
    record = functions.check_record(
        {"className": " a.B ", "functionType": "math", "resources": ["r.jar"]}
    )
    assert (record["className"], record["functionType"]) == ("a.B", "MATH")
    cases = [
        ({"functionType": "MATH", "resources": ["r"]}, "Invalid.Function.ClassName"),
        ({"className": "a", "functionType": "SUM", "resources": ["r"]}, "Invalid.Function.Type"),
        ({"className": "a", "functionType": "MATH", "resources": []}, "Invalid.Function.Resources"),
    ]
    for given, code in cases:
        with pytest.raises(Invalid) as err:
            functions.check_record(given)
        assert err.value.code == code


def test_unknown_resources_are_named_and_nothing_is_written(core: Core) -> None:
    ref = workspace(core)
    resource(core, ref, "ok.jar")
    files.create_file(core, ROOT, ref, 10, {"FileName": "not_a_resource"})
    with pytest.raises(Invalid) as err:
        udf(core, ref, "f1", "ok.jar, gone.jar,not_a_resource")
    assert err.value.code == "Invalid.Function.UnknownResource"
    assert "gone.jar, not_a_resource" in err.value.message
    with core.store.transaction() as tx:
        assert tx.file_by_name(ref.id or 0, "f1") is None


def test_missing_resources_follow_dev_and_prod(core: Core) -> None:
    ref = workspace(core)
    a, b = resource(core, ref, "a.jar"), resource(core, ref, "b.jar")
    fid = udf(core, ref, "f_upper", "a.jar,b.jar")
    assert missing(core, ref, fid, Env.DEV) == ["a.jar", "b.jar"]
    assert missing(core, ref, fid, Env.DEV, shipping=(b,)) == ["a.jar"]
    packages.submit_file(core, ROOT, ref, a, None)
    run_all(core)
    assert missing(core, ref, fid, Env.DEV) == ["b.jar"]
    assert missing(core, ref, fid, Env.PROD) == ["a.jar", "b.jar"]
    packages.deploy_file(core, ROOT, ref, a, None, None)
    run_all(core)
    assert missing(core, ref, fid, Env.PROD) == ["b.jar"]
    # a committed version of the function reads the names it committed
    packages.submit_file(core, ROOT, ref, fid, None)
    run_all(core)
    _, version = files.get_version(core, ROOT, ref, fid, 1)
    with core.store.transaction() as tx:
        project = tx.project(ref.id or 0)
        assert project is not None
        assert functions.missing_resources(tx, project, version, Env.PROD) == ["b.jar"]
    # a resource deleted (never committed: gone at once) is missing everywhere
    packages.delete_file(core, ROOT, ref, b)
    assert missing(core, ref, fid, Env.DEV) == ["b.jar"]


def test_update_keeps_absent_fields_and_checks_resources(core: Core) -> None:
    ref = workspace(core)
    resource(core, ref, "a.jar")
    resource(core, ref, "c.jar")
    fid = udf(core, ref, "f_keep", "a.jar", Example="upper('a')")
    record = functions.udf_record({"ClassName": "com.x.Lower", "Resources": "c.jar"})
    functions.update_udf_file(core, ROOT, ref, str(fid), {}, record)
    _, file = files.get_file(core, ROOT, ref, fid, None)
    kept = file.config["Function"]
    assert (kept["className"], kept["resources"], kept["example"]) == (
        "com.x.Lower",
        ["c.jar"],
        "upper('a')",
    )
    assert kept["functionType"] == "STRING"
    with pytest.raises(Invalid) as err:
        bad = functions.udf_record({"ClassName": "x", "Resources": "nope.jar"})
        functions.update_udf_file(core, ROOT, ref, str(fid), {}, bad)
    assert err.value.code == "Invalid.Function.UnknownResource"


def test_a_2020_function_renders_as_flowspec_and_back(core: Core) -> None:
    ref = workspace(core)
    resource(core, ref, "a.jar")
    fid = udf(core, ref, "f_spec", "a.jar", CmdDescription="f(x)", ReturnValue="string")
    _, file = files.get_file(core, ROOT, ref, fid, None)
    item = render_function(file, fid)
    assert item["className"] == "com.x.Upper" and item["type"] == "STRING"
    assert item["fileResources"] == [{"name": "a.jar"}]
    assert item["usageDescription"] == "f(x)" and item["returnValueDescription"] == "string"
    assert item["script"]["runtime"]["command"] == "ODPS_FUNCTION"
    doc = {"version": "1.1.0", "kind": "Function", "spec": {"functions": [item]}}
    back = object_fields(doc, item, "Function")
    assert back.function["resources"] == ["a.jar"]
    assert back.function["cmdDescription"] == "f(x)"
    assert back.extras["node"] == {}
