"""specnb.resources finds the bundled notebooks, data and templates in a checkout and in an installed wheel
(the wheel itself is tested in test_package.py)."""

from pathlib import Path

from specnb import build, data, export, resources

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_layout():
    assert resources.DATA == ROOT / "data" == data.BUNDLED_DATA
    assert resources.NOTEBOOKS == ROOT / "notebooks" == build.NOTEBOOKS
    assert build.REPORT_NOTEBOOK == ROOT / "notebooks" / "report.ipynb" and build.REPORT_NOTEBOOK.is_file()
    assert build.SUMMARY_NOTEBOOK.is_file() and resources.notebook("explore").is_file()
    assert export.TEMPLATES_DIR == resources.TEMPLATES and (resources.TEMPLATES / "specnb_html").is_dir()


def test_the_wheels_copy_wins(tmp_path, monkeypatch):
    wheel, checkout = tmp_path / "pkg" / "_bundled", tmp_path
    (checkout / "data").mkdir()
    monkeypatch.setattr(resources, "IN_WHEEL", wheel)
    monkeypatch.setattr(resources, "CHECKOUT", checkout)
    assert resources.bundled("data") == checkout / "data"
    (wheel / "data").mkdir(parents=True)
    assert resources.bundled("data") == wheel / "data"  # never a stray site-packages/data beside the package
    assert resources.bundled("notebooks") == wheel / "notebooks"  # missing everywhere: where it should be


def test_display_paths_do_not_depend_on_the_layout(bundled):
    assert all(f.path.startswith("data/") for f in bundled.files)
