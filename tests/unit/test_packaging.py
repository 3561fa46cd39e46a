"""The distribution works outside the clone: an sdist built from the tree, a wheel built from
that sdist (as ``python -m build`` does), installed into a fresh virtual environment, runs
``openworks --help`` and serves the API and the console from its own files.

Offline: hatchling (the build backend, in the dev extra) builds without build isolation,
and the fresh environment finds the dependencies through a ``.pth`` line naming this
environment's site-packages (which does not bring the editable openworks along: ``.pth``
files of a directory added that way are not read). ``scripts/package.sh`` does the release
build with ``build`` and ``twine check``.
"""

from __future__ import annotations

import ast
import os
import re
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import urllib.request
import zipfile
from importlib.metadata import packages_distributions, requires
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "openworks"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("OPENWORKS_TEST_POSTGRES")),
    reason="packaging does not depend on the database: checked in the SQLite pass",
)


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _data_files() -> set[str]:
    """Every file of the package that is not Python source, relative to src/."""
    return {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc")
    }


def _required(names: set[str], prefix: str = "") -> None:
    """Every data file of the package (the console's templates and static files, the API's
    operation tables, py.typed, script.py.mako) and every migration."""
    wanted = _data_files() | {
        "openworks/store/migrations/env.py",
        *(
            str(p.relative_to(PACKAGE.parent))
            for p in (PACKAGE / "store" / "migrations" / "versions").glob("*.py")
        ),
    }
    assert any(w.startswith("openworks/console/templates/") for w in wanted)
    assert any(w.startswith("openworks/console/static/") for w in wanted)
    assert "openworks/store/migrations/script.py.mako" in wanted
    assert any(w.endswith(".json") for w in wanted)  # the API's operation table
    missing = {w for w in wanted if prefix + w not in names}
    assert not missing, f"not in the distribution: {sorted(missing)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as r:
        return int(r.status), r.read().decode()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist from the tree, then the wheel from the unpacked sdist."""
    pytest.importorskip("hatchling", reason="pip install -e '.[dev]' installs the build backend")
    tmp = tmp_path_factory.mktemp("packaging")
    dist = tmp / "dist"
    _run(sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", dist, cwd=ROOT)
    [sdist] = dist.glob("openworks-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = set(archive.getnames())
        top = sdist.name.removesuffix(".tar.gz")
        _required(names, prefix=f"{top}/src/")
        for kept in ("README.md", "pyproject.toml", "PKG-INFO", "tests/console/conftest.py"):
            assert f"{top}/{kept}" in names, kept
        assert not any(n.startswith(f"{top}/.venv") for n in names)
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+
            archive.extractall(tmp / "unpacked", filter="data")
        else:  # pragma: no cover - our own archive, just built
            archive.extractall(tmp / "unpacked")
    _run(
        sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", dist,
        cwd=tmp / "unpacked" / top,
    )  # fmt: skip
    [built] = dist.glob("openworks-*.whl")
    return built


def test_wheel_holds_the_data_files_and_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        _required(names)
        info = wheel.name.split("-py3")[0] + ".dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert not any(n.startswith(("tests/", "docs/", "bench/")) for n in names)
    assert "Description-Content-Type: text/markdown" in metadata  # the README, as twine checks
    assert "## Quick start" in metadata
    assert "openworks = openworks.cli:main" in entry_points
    assert "[pytest11]" in entry_points and "openworks = openworks.testing" in entry_points


def test_installed_wheel_runs_and_serves(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"))
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site.as_posix().strip(), "dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENWORKS_", "PYTHON"))}
    env.update({"XDG_DATA_HOME": str(tmp_path / "xdg"), "NO_PROXY": "*", "no_proxy": "*"})
    _run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, env=env)

    where = _run(python, "-c", "import openworks; print(openworks.__file__)", cwd=tmp_path, env=env)
    assert where.strip().startswith(str(venv)), where  # the wheel's copy, not the clone's
    assert "serve" in _run(venv / "bin" / "openworks", "--help", cwd=tmp_path, env=env)

    port, database = _free_port(), tmp_path / "ow.db"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [venv / "bin" / "openworks", "serve", "--port", str(port),
             "--database-url", f"sqlite:///{database}"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        base, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
        while True:
            assert server.poll() is None, log_path.read_text()
            try:
                assert _get(f"{base}/healthz")[0] == 200
                break
            except OSError:
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
        status, page = _get(f"{base}/console/login")
        assert status == 200 and "Sign in with AccessKey" in page  # a packaged template
        status, css = _get(f"{base}/console/static/console.css")
        assert status == 200 and css.strip()
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(database) as conn:  # the packaged migrations made the schema
        [(revisions,)] = conn.execute("SELECT count(*) FROM alembic_version").fetchall()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert revisions >= 1 and {"packages", "files"} <= tables


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(requirements: list[str]) -> set[str]:
    return {_canonical(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def test_every_imported_distribution_is_declared() -> None:
    """A wheel installed with its dependencies can import all of openworks: each third-party
    module imported under src/openworks comes from a declared dependency or from one of
    theirs (``openworks.testing``, the pytest plugin, may also use the testing extra)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _names(project["dependencies"])
    extras = project["optional-dependencies"]
    testing = runtime | _names(extras["testing"])
    # an import inside a function runs only when that feature is used: it may come from an
    # extra (boto3 for the S3 blob store, the ``s3`` extra); module-level ones may not
    optional = runtime | {
        name for extra, reqs in extras.items() if extra != "dev" for name in _names(reqs)
    }
    reachable_from: dict[frozenset[str], set[str]] = {}

    def reachable(declared: set[str]) -> set[str]:
        key = frozenset(declared)
        if key not in reachable_from:
            reachable_from[key] = declared | {
                name for dist in declared for name in _names(requires(dist) or []) if name
            }
        return reachable_from[key]

    owners = packages_distributions()
    undeclared = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy = {
            id(inner)
            for func in ast.walk(tree)
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(func)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            declared = testing if path == PACKAGE / "testing.py" else runtime
            if id(node) in lazy:
                declared = optional
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "openworks":
                    continue
                dists = {_canonical(d) for d in owners.get(top, [top])}
                if not dists & reachable(declared):
                    undeclared.add(f"{top} ({path.relative_to(ROOT)})")
    assert not undeclared, f"imported but not a declared dependency: {sorted(undeclared)}"
