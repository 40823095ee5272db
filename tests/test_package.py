"""The wheel is the product: built from this checkout, installed into fresh venvs, run from an unrelated folder.

Two venvs, both without the checkout on ``sys.path``. One holds the wheel plus, through a ``.pth`` line, the
test venv's site-packages (what ``pip install specnb[reports]`` would bring, without downloading it again):
it lists the bundled configurations and builds a report with HTML and PDF. The other holds the wheel plus
only the core dependencies' files (symlinked): ``list``, ``compare``, ``export`` and the Python API work,
and ``build`` says in one line which extra to install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import specnb
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
TEST_SITE = Path(sysconfig.get_paths()["purelib"])
SLUG = "dsr1-b200-fp4-1k1k"


def _git_files(folder: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.split()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``specnb-*.whl`` built from this checkout (no build isolation: hatchling is in the test venv)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(out), str(ROOT)], check=True)
    (found,) = out.glob("specnb-*.whl")
    return found


def _venv(path: Path, wheel: Path, site_dirs: list[Path]) -> Path:
    """A venv at ``path`` with the wheel installed (no dependencies) and ``site_dirs`` appended to sys.path."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "deps.pth").write_text("".join(f"{d}\n" for d in site_dirs))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--quiet",
                    "--no-deps", str(wheel)], check=True)
    return python


def _run(python: Path, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SPECNB_DATA")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"{args} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return proc


def _core_closure() -> set[str]:
    """specnb's required distributions (no extras) and theirs, as installed in the test venv."""
    todo = [Requirement(r) for r in metadata.requires("specnb") or []]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        todo += [Requirement(r) for r in metadata.distribution(name).requires or []]
    return seen


def _core_only_site(folder: Path) -> Path:
    """A folder of symlinks to the core dependencies' top-level files: an install without any extra."""
    folder.mkdir()
    for name in _core_closure():
        dist = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        for top in tops:
            if (TEST_SITE / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(TEST_SITE / top)
    return folder


# ------------------------------------------------------------------------------------------------- tests


def test_wheel_holds_the_notebooks_data_and_templates_as_in_the_checkout(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for folder in ("notebooks", "data"):
            files = _git_files(folder)
            assert files
            for rel in files:  # the one copy on disk, byte for byte
                assert z.read(f"specnb/_bundled/{rel}") == (ROOT / rel).read_bytes(), rel
        for rel in _git_files("specnb"):
            assert rel in names, rel
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert not [n for n in names if "__pycache__" in n or ".ipynb_checkpoints" in n]
    assert "specnb = specnb.cli:run" in entry_points
    assert "specnb = specnb.display:vega_renderer" in entry_points


@pytest.mark.slow
def test_installed_wheel_lists_and_builds_from_any_folder(wheel, tmp_path):
    python = _venv(tmp_path / "venv", wheel, [TEST_SITE])
    # nbconvert's base templates and the kernel spec are data files installed into the environment's prefix.
    (tmp_path / "venv" / "share").symlink_to(Path(sys.prefix) / "share")
    work = tmp_path / "elsewhere"
    work.mkdir()

    where = json.loads(_run(python, "-c", "import json, sys, specnb, specnb.resources as r; "
                            "print(json.dumps([specnb.__file__, str(r.DATA), str(r.NOTEBOOKS), sys.path]))",
                            cwd=work).stdout)
    venv = str((tmp_path / "venv").resolve())
    assert all(p.startswith(venv) for p in where[:3]), where
    assert not [p for p in where[3] if p and Path(p).resolve() in (ROOT, ROOT / "specnb")], where[3]

    listed = json.loads(_run(python, "-m", "specnb", "list", "--format", "json", cwd=work).stdout)
    assert len(listed) == len(specnb.configurations()) and {"model": "dsr1", "hardware": "b200", "precision": "fp4", "isl": 1024,
                                  "osl": 1024, "points": {"mtp": 13, "none": 28}} in listed
    specnb_cmd = str(python.parent / "specnb")
    compare = ["compare", "--model", "dsr1", "--hardware", "b200", "--precision", "fp4", "--sequence", "1k/1k"]
    assert _run(python, specnb_cmd, *compare, cwd=work).stdout == _run(python, "-m", "specnb", *compare, cwd=work).stdout
    api = _run(python, "-c", "import specnb; d = specnb.load(); print(len(d.points), d.files[0].path)", cwd=work)
    assert re.fullmatch(r"\d{3,} data/\S+\n", api.stdout), api.stdout  # display paths as in a checkout

    _run(python, specnb_cmd, "build", "--only", SLUG, "--format", "html,pdf", "--out", "out", cwd=work)
    html = (work / "out" / SLUG / "report.html").read_text()
    assert "B200 FP4: MTP vs Off" in html and "application/json" in html
    from pypdf import PdfReader

    pdf = PdfReader(work / "out" / SLUG / "report.pdf")
    assert len(pdf.pages) >= 2 and "MTP vs Off" in pdf.pages[0].extract_text()
    assert (work / "out" / "index.html").is_file()


@pytest.mark.slow
def test_without_extras_everything_but_build_works(wheel, tmp_path):
    python = _venv(tmp_path / "venv", wheel, [_core_only_site(tmp_path / "core-site")])
    work = tmp_path / "elsewhere"
    work.mkdir()
    missing = _run(python, "-c", "import importlib.util as u; print([m for m in ('altair', 'papermill', 'nbconvert', "
                   "'ipykernel', 'weasyprint', 'pytest') if u.find_spec(m)])", cwd=work).stdout
    assert missing.strip() == "[]"  # the venv really lacks the extras

    assert "dsr1" in _run(python, "-m", "specnb", "list", cwd=work).stdout
    compared = json.loads(_run(python, "-m", "specnb", "compare", "--model", "dsr1", "--hardware", "b200",
                               "--precision", "fp4", "--sequence", "1k/1k", "--format", "json", cwd=work).stdout)
    assert compared["schema"] == "specnb.comparison/1"
    _run(python, "-m", "specnb", "export", "--out", "points.csv", cwd=work)
    assert (work / "points.csv").read_text().startswith("model,")
    api = _run(python, "-c", "import specnb; c = specnb.compare('dsr1', 'b200', 'fp4', '1k/1k'); "
               "print(len(specnb.configurations()), c.to_dict()['schema'], 'mid-band' in c._repr_html_())", cwd=work)
    assert api.stdout.split() == [str(len(specnb.configurations())), "specnb.comparison/1", "True"]

    build = _run(python, "-m", "specnb", "build", "--out", "out", cwd=work, check=False)
    assert build.returncode == 2 and build.stdout == ""
    assert re.fullmatch(r"specnb: error: specnb build needs specnb's 'reports' extra \([^)]*papermill[^)]*\); "
                        r"run: pip install 'specnb\[reports\]'\n", build.stderr), build.stderr
    assert not (work / "out").exists()
