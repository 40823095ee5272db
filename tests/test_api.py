import doctest
import subprocess
import sys

import specnb


def test_public_surface():
    assert set(specnb.__all__) == {"Comparison", "SpecnbError", "compare", "configurations", "load", "trend",
                                   "__version__"}
    assert issubclass(specnb.SpecnbError, Exception)


def test_import_is_light():
    code = ("import sys, specnb, specnb.cli, specnb.comparison; "
            "heavy = [m for m in ('altair', 'nbformat', 'papermill', 'nbconvert', 'weasyprint', 'jsonschema') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_package_docstring_example_runs():
    result = doctest.testmod(specnb, verbose=False)
    assert result.attempted >= 2 and result.failed == 0


def test_comparison_html_repr_and_frame():
    c = specnb.compare("dsr1", "h200", "fp8", "1k/1k")
    html = c._repr_html_()
    assert "<table" in html and "tok/s/user" in html and "✓" not in html.split("<style>")[0]
    frame = c.to_frame()
    assert len(frame) == len(c.targets) * 2 and set(frame.arm) == {"mtp", "none"}


def test_gpu_override_through_api():
    base = specnb.compare("dsr1", "h200", "fp8", "1k/1k")
    cheap = specnb.compare("dsr1", "h200", "fp8", "1k/1k", gpu_cost={"h200": base.rate.usd_per_gpu_hour / 2})
    a, b = base.targets[0].arms["mtp"], cheap.targets[0].arms["mtp"]
    assert b.cost_per_mtok * 2 == a.cost_per_mtok and b.throughput_per_gpu == a.throughput_per_gpu


def test_configurations_read_as_a_plain_table(bundled):
    configs = specnb.configurations(bundled)
    assert list(configs.columns) == ["model", "hardware", "precision", "sequence", "isl", "osl", "MTP points",
                                     "Off points"]
    assert len(configs) == len(bundled.configurations()) > 30
    assert (configs["MTP points"] > 0).all() and (configs["Off points"] > 0).all()
    assert str(configs["MTP points"].dtype) == "int64"
    row = configs[(configs.hardware == "b200") & (configs.precision == "fp4") & (configs.sequence == "1k/1k")]
    assert row[["MTP points", "Off points"]].values.tolist() == [[13, 28]]


def test_configurations_with_other_arms_and_none(bundled, tmp_path):
    every = specnb.configurations(bundled, all_configs=True)
    assert len(every) > len(specnb.configurations(bundled)) and "UNKNOWN points" in every.columns  # raw results without --meta
    assert (every[["MTP points", "Off points", "UNKNOWN points"]].sum(axis=1) > 0).all()
    only_off = specnb.configurations(bundled, all_configs=True, arms=("none",))
    assert list(only_off.columns[6:8]) == ["Off points", "MTP points"]  # the asked arms first
    empty = specnb.configurations(bundled, arms=("eagle",))
    assert empty.empty and "EAGLE points" in empty.columns
