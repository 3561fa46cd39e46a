"""``openworks sync`` on a folder of three dependent SQL nodes, through the CLI, with the
packages executed in-process (``--local-worker``) on a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from openworks.cli import main
from openworks.core import checks
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.errors import Invalid
from openworks.core.model import Env, Principal
from openworks.core.projects import NewProject, create_project
from openworks.core.sync import managed_files
from openworks.core.sync_plan import DEFAULT_FOLDER, NodeSpec, dependency_order, parse_node
from openworks.core.test_control import fail_next
from openworks.store import SqlStore, make_engine, migrate

ACCOUNT = "1000000000000001"
ROOT = Principal(ACCOUNT, ACCOUNT, "root")

NODES = {
    "stg_orders.sql": "-- @cron 00 10 00 * * ?\nselect * from ods_orders;\n",
    "orders_daily.sql": (
        "-- @depends stg_orders\n-- @description Daily totals\n"
        "select dt, sum(amount) from ws_sync.stg_orders group by dt;\n"
    ),
    "orders_report.sql": (
        "-- @type ODPS_SQL\n-- @depends orders_daily\nselect * from orders_daily;\n"
    ),
}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Core, int]:
    for name in ("OPENWORKS_DATABASE_URL", "OPENWORKS_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    url = f"sqlite:///{tmp_path / 'ow.db'}"
    engine = make_engine(url)
    migrate(engine)
    from openworks.store.identity import ensure_account

    ensure_account(engine, ACCOUNT)
    core = checks.install(Core(SqlStore(engine)))
    project_id = create_project(core, ROOT, NewProject("ws_sync", "sync"))
    return url, core, project_id


@pytest.fixture
def control(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test control for the CLI's local worker: installed only when asked for."""
    monkeypatch.setenv("OPENWORKS_CONTROL", "1")


def write_folder(directory: Path, nodes: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, text in nodes.items():
        (directory / name).write_text(text)
    return directory


def sync(url: str, directory: Path, *extra: str) -> Result:
    args = ["sync", str(directory), "--workspace", "ws_sync", "--database-url", url]
    return CliRunner().invoke(main, [*args, "--local-worker", "--timeout", "20", *extra])


def prod_nodes(core: Core, project_id: int) -> dict[str, tuple[str, list[str]]]:
    with core.store.transaction() as tx:
        return {n.name: (n.content, n.inputs) for n in tx.list_nodes(project_id, Env.PROD)}


def package_count(core: Core) -> int:
    from sqlalchemy import func, select

    from openworks.store.schema import packages

    store = core.store
    assert isinstance(store, SqlStore)
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(packages)).scalar_one())


def test_sync_first_noop_edit_delete(env: tuple[str, Core, int], tmp_path: Path) -> None:
    url, core, project_id = env
    folder = write_folder(tmp_path / "nodes", NODES)

    first = sync(url, folder, "--deploy", "--wait")
    assert first.exit_code == 0, first.output
    assert "plan: 3 to create, 0 to update, 0 to delete, 0 unchanged" in first.output
    assert "sync: done" in first.output
    nodes = prod_nodes(core, project_id)
    assert set(nodes) == {"stg_orders", "orders_daily", "orders_report"}
    assert nodes["orders_daily"][1] == ["ws_sync.stg_orders"]
    assert nodes["orders_report"][1] == ["ws_sync.orders_daily"]
    assert nodes["stg_orders"][1] == ["ws_sync_root"]
    # Parents were submitted before children: the submit lines come in dependency order.
    lines = [line.split()[1] for line in first.output.splitlines() if line.startswith("  submit")]
    assert lines == ["stg_orders", "orders_daily", "orders_report"]
    created = package_count(core)
    assert created == 6  # three commits, three deployments

    second = sync(url, folder, "--deploy", "--wait")
    assert second.exit_code == 0, second.output
    assert "plan: 0 to create, 0 to update, 0 to delete, 3 unchanged" in second.output
    assert package_count(core) == created

    (folder / "orders_daily.sql").write_text(
        NODES["orders_daily.sql"].replace("sum(amount)", "sum(amount) as total")
    )
    dry = sync(url, folder, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "  update  orders_daily" in dry.output
    assert "-select dt, sum(amount) from" in dry.output
    assert "+select dt, sum(amount) as total from" in dry.output
    assert package_count(core) == created  # a dry run changes nothing

    edit = sync(url, folder, "--deploy", "--wait")
    assert edit.exit_code == 0, edit.output
    assert "plan: 0 to create, 1 to update, 0 to delete, 2 unchanged" in edit.output
    assert package_count(core) == created + 2
    assert "as total" in prod_nodes(core, project_id)["orders_daily"][0]

    (folder / "orders_report.sql").unlink()
    dry = sync(url, folder, "--dry-run")
    assert "  delete  orders_report" in dry.output
    assert "--- workspace/orders_report.sql" in dry.output
    removed = sync(url, folder, "--deploy", "--wait")
    assert removed.exit_code == 0, removed.output
    assert "plan: 0 to create, 0 to update, 1 to delete, 2 unchanged" in removed.output
    assert set(prod_nodes(core, project_id)) == {"stg_orders", "orders_daily"}
    _project, files = managed_files(core, ROOT, ProjectRef(identifier="ws_sync"), DEFAULT_FOLDER)
    assert set(files) == {"stg_orders", "orders_daily"}


@pytest.mark.usefixtures("control")
def test_sync_reports_a_failed_package(env: tuple[str, Core, int], tmp_path: Path) -> None:
    url, core, project_id = env
    folder = write_folder(tmp_path / "nodes", NODES)
    fail_next(core, 1, "injected failure", 2)

    result = sync(url, folder, "--deploy", "--wait")

    assert result.exit_code == 1
    assert "stg_orders" in result.output and "failed: injected failure" in result.output
    assert "sync: FAILED - 3 package(s) failed" in result.output  # the children fail too
    assert prod_nodes(core, project_id) == {}

    retry = sync(url, folder, "--deploy", "--wait")  # the working copies are still there
    assert retry.exit_code == 0, retry.output
    assert "plan: 0 to create, 0 to update, 0 to delete, 3 unchanged" in retry.output
    assert len(prod_nodes(core, project_id)) == 3


def test_sync_without_deploy_only_commits(env: tuple[str, Core, int], tmp_path: Path) -> None:
    url, core, project_id = env
    folder = write_folder(tmp_path / "nodes", NODES)
    result = sync(url, folder, "--wait")
    assert result.exit_code == 0, result.output
    assert prod_nodes(core, project_id) == {}
    with core.store.transaction() as tx:
        assert len(tx.list_nodes(project_id, Env.DEV)) == 3


def test_sync_refuses_unknown_parents_and_cycles(
    env: tuple[str, Core, int], tmp_path: Path
) -> None:
    url, _core, _project_id = env
    folder = write_folder(tmp_path / "bad", {"a.sql": "-- @depends missing\nselect 1;\n"})
    result = sync(url, folder)
    assert result.exit_code == 1
    assert "a depends on missing, which is not a node of the folder" in result.output

    with pytest.raises(Invalid, match="cycle: a -> b -> a"):
        dependency_order([NodeSpec("a", depends=("b",)), NodeSpec("b", depends=("a",))])


def test_node_header() -> None:
    spec = parse_node("n", "-- @type 24\n-- @cron 00 00 05 * * ?\n-- @depends x y.z\nselect 1;\n")
    assert (spec.file_type, spec.cron, spec.depends) == (24, "00 00 05 * * ?", ("x", "y.z"))
    assert spec.content == "select 1;\n"
    assert parse_node("n", "select 1;\n-- @type 6\n").file_type == 10  # header only at the top
    with pytest.raises(Invalid, match="unknown setting @owner"):
        parse_node("n", "-- @owner me\n")
    with pytest.raises(Invalid, match="unknown node type"):
        parse_node("n", "-- @type NOPE\n")
    with pytest.raises(Invalid, match="6 or 7 fields"):
        parse_node("n", "-- @cron daily\n")


def test_node_type_header_takes_ascii_digits_only() -> None:
    """A numeric ``@type`` is at most 9 ASCII digits ("²".isdigit() is true, int() reads
    full-width digits and has no bound): anything else is a name, and no such name exists."""
    assert parse_node("n", "-- @type 000000024\nselect 1;\n").file_type == 24  # 9 digits
    for value in ("²", "\uff12\uff14", "0000000024", "99999999999999999999999"):
        with pytest.raises(Invalid, match="unknown node type"):
            parse_node("n", f"-- @type {value}\nselect 1;\n")


@pytest.mark.usefixtures("control")
def test_deployments_list_show_wait(env: tuple[str, Core, int], tmp_path: Path) -> None:
    url, core, _project_id = env
    folder = write_folder(tmp_path / "nodes", {"one.sql": "select 1;\n"})
    fail_next(core, 1, "boom", 2)
    assert sync(url, folder, "--wait").exit_code == 1
    assert sync(url, folder, "--wait").exit_code == 0
    runner = CliRunner()
    base = ["--workspace", "ws_sync", "--database-url", url]

    listed = runner.invoke(main, ["deployments", "list", *base])
    assert listed.exit_code == 0, listed.output
    assert "2 of 2 (page 1)" in listed.output
    failed = runner.invoke(main, ["deployments", "list", "--status", "2", "--json", *base])
    document = json.loads(failed.output)
    assert document["TotalCount"] == 1
    failed_id = document["Deployments"][0]["DeploymentId"]
    assert document["Deployments"][0]["ErrorMessage"] == "boom"

    shown = runner.invoke(main, ["deployments", "show", str(failed_id), *base])
    assert json.loads(shown.output)["DeployedItems"][0]["Status"] == 2
    waited = runner.invoke(main, ["deployments", "wait", str(failed_id), *base])
    assert waited.exit_code == 1 and "FAILED: boom" in waited.output
    ok_id = failed_id + 1
    assert runner.invoke(main, ["deployments", "wait", str(ok_id), *base]).exit_code == 0
    missing = runner.invoke(main, ["deployments", "show", "1", *base])
    assert missing.exit_code == 1 and "InvalidDeployment.NotFound" in missing.output

    from openworks.core.test_control import set_mode

    set_mode(core, "manual")
    (folder / "one.sql").write_text("select 2;\n")
    assert sync(url, folder).exit_code == 0  # submitted, not waited for
    held = json.loads(
        runner.invoke(main, ["deployments", "list", "--status", "0", "--json", *base]).output
    )
    held_id = held["Deployments"][0]["DeploymentId"]
    timed_out = runner.invoke(
        main, ["deployments", "wait", str(held_id), "--timeout", "0.3", "--interval", "0.1", *base]
    )
    assert timed_out.exit_code == 2 and "still READY" in timed_out.output
