"""A package's page links its pipeline run only when the run has a page in its workspace."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from openworks.console.deployments import _run_here
from openworks.core import files, packages
from openworks.core.access import ProjectRef
from openworks.core.context import Core
from openworks.core.projects import NewProject, create_project
from tests.unit.core.conftest import ROOT
from tests.unit.core.conftest import core as core


@pytest.fixture
def submitted(core: Core) -> Iterator[tuple[Core, ProjectRef, int]]:
    ref = ProjectRef(create_project(core, ROOT, NewProject("ws_console_link", "L")))
    fid = files.create_file(core, ROOT, ref, 10, {"FileName": "linked"})
    yield core, ref, packages.submit_file(core, ROOT, ref, fid, None)


def test_a_mirror_run_is_linked_another_run_is_not(
    submitted: tuple[Core, ProjectRef, int],
) -> None:
    core, ref, package_id = submitted
    package = packages.get_deployment(core, ROOT, ref, package_id)
    assert package.run_id is not None
    assert _run_here(core, ROOT, ref, package)  # its mirror run: /console/w/<id>/runs/<run>
    # a cross-workspace run's package: the run is kept in the source workspace
    elsewhere = dataclasses.replace(package, run_id=str(uuid.uuid4()))
    assert not _run_here(core, ROOT, ref, elsewhere)
    assert not _run_here(core, ROOT, ref, dataclasses.replace(package, run_id=None))
