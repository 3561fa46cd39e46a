"""GetDeployment's one-statement read equals the workspace read and the package read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from openworks.core import files, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.projects import NewProject, create_project
from openworks.store import SqlStore, make_engine, migrate
from openworks.store.identity import ensure_account
from tests.dbutil import fresh_database_url, postgres_base
from tests.unit.core.conftest import ROOT


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    url = fresh_database_url("pwp") if postgres_base() else f"sqlite:///{tmp_path}/p.db"
    engine = make_engine(url)
    migrate(engine)
    ensure_account(engine, ROOT.account_id)
    yield Core(SqlStore(engine))
    engine.dispose()


def test_the_workspace_and_its_package_in_one_read(core: Core) -> None:
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_pwp", "P")))
    other = ProjectRef(create_project(core, ROOT, NewProject("ws_pwp_other", "O")))
    ids = [files.create_file(core, ROOT, ref, 10, {"FileName": f"f{n}"}) for n in range(3)]
    single = packages.submit_file(core, ROOT, ref, ids[0], None)
    elsewhere = packages.submit_file(
        core, ROOT, other, files.create_file(core, ROOT, other, 10, {"FileName": "x"}), None
    )
    assert ref.id is not None
    with core.store.transaction() as tx:
        project = tx.project(ref.id)
        for package_id in (single, elsewhere, 999_999_999):
            found, package = tx.project_with_package(ref.id, package_id)
            assert found == project
            expected = tx.package(package_id)
            if expected is not None and expected.project_id != ref.id:
                expected = None  # another workspace's package is not this one's
            assert package == expected
        assert tx.project_with_package(999_999_999, single) == (None, None)
    assert packages.get_deployment(core, ROOT, ref, single).id == single
