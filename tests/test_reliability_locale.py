"""A non-UTF-8 locale (RELIABILITY.md §14, issue 14 item 8): real ``python -m specnb.cli`` subprocesses under
``LC_ALL=C PYTHONUTF8=0`` (stdout, stderr and ``open()`` all ASCII) and with no locale at all. Every file specnb
reads or writes is UTF-8 whatever the locale; terminal text degrades (``—`` → ``-``, ``×`` → ``x``, ``†`` → ``+``)
instead of raising; JSON on stdout stays lossless (``\\u`` escapes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import specnb

HOSTILE = Path(__file__).parent / "data" / "reliability" / "hostile.json"
MODEL = "Zürich-R1 — ×†·測試"  # what no ASCII terminal can show
ENGINE = "vLLM–ünï"

#: ``LC_ALL=C``: the C locale, Python's UTF-8 mode off. ``no locale``: LANG and LC_* unset, and Python told not
#: to coerce the C locale to C.UTF-8 (PEP 538), so its streams and ``open()`` are ASCII too.
LOCALES = {"LC_ALL=C": {"LC_ALL": "C", "PYTHONUTF8": "0"},
           "no locale": {"PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}}


def _env(locale: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "PYTHONIOENCODING")
           and not k.startswith("LC_")}
    return {**env, **locale}


def cli(locale: str, *args, cwd=None, timeout=300) -> subprocess.CompletedProcess:
    """``specnb`` under ``locale``; stdout and stderr as bytes (what the terminal was sent)."""
    return subprocess.run([sys.executable, "-m", "specnb.cli", *args], capture_output=True, env=_env(LOCALES[locale]),
                          cwd=cwd, timeout=timeout)


def _ascii(blob: bytes) -> str:
    assert blob.isascii(), blob[:300]
    return blob.decode("ascii")


def _no_traceback(proc) -> None:
    assert b"Traceback" not in proc.stderr and b"Error:" not in proc.stderr.replace(b"specnb: error:", b""), \
        proc.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def unicode_data(tmp_path_factory) -> Path:
    """The hostile fixture's points, renamed: a model and engine no ASCII terminal can show, on a GPU with a rate."""
    rows = json.loads(HOSTILE.read_text(encoding="utf-8"))
    for row in rows:
        row.update(model=MODEL, framework=ENGINE, hardware="b200", precision="fp4")
    path = tmp_path_factory.mktemp("dätä") / "bénch—×.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def key(unicode_data) -> str:
    return specnb.load(unicode_data).points.model.iat[0]


def test_the_locales_really_are_ascii():
    for locale in LOCALES:
        probe = "import sys, locale; print(sys.stdout.encoding, locale.getpreferredencoding(False))"
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, env=_env(LOCALES[locale]),
                             check=True, text=True).stdout.lower()
        assert "utf" not in out, (locale, out)


@pytest.mark.parametrize("locale", LOCALES)
def test_compare_text_degrades(locale):
    """The bundled report with every typographic character: title (— ·), ratios (×), thin data (†), best (✓)."""
    proc = cli(locale, "compare", "--model", "dsr1", "--hardware", "gb300", "--precision", "fp4", "--sequence",
               "1k/1k")
    assert proc.returncode == 0, proc.stderr
    out = _ascii(proc.stdout)
    assert out.startswith("GB300 FP4: MTP vs Off - DeepSeek R1 - 1k/1k\n")
    assert "28x the throughput" in out and "70-308+" in out and " * " in out
    assert "?" not in out  # every character of specnb's own has an ASCII stand-in


@pytest.mark.parametrize("locale", LOCALES)
def test_compare_json_is_lossless(locale, unicode_data, key):
    proc = cli(locale, "compare", "--data", str(unicode_data), "--model", key, "--hardware", "b200",
               "--precision", "fp4", "--sequence", "1k/1k", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(_ascii(proc.stdout))
    assert got == json.loads(json.dumps(specnb.compare(key, "b200", "fp4", "1k/1k", data=specnb.load(unicode_data))
                                        .to_dict()))
    assert got["config"]["model"] == key and got["provenance"]["model_ids"] == [MODEL]
    assert got["provenance"]["files"][0]["path"].endswith("dätä0/bénch—×.json")


@pytest.mark.parametrize("locale", LOCALES)
def test_list_and_errors_degrade(locale, unicode_data, key, tmp_path):
    for args in (["list", "--all"], ["list", "--models"], ["list", "--models", "--format", "json"],
                 ["list", "--format", "json"]):
        proc = cli(locale, args[0], "--data", str(unicode_data), *args[1:])
        assert proc.returncode == 0, (args, proc.stderr)
        text = _ascii(proc.stdout)
        if "json" in args:
            assert key in json.dumps(json.loads(text), ensure_ascii=False)
        else:
            assert "zurich-r1 - x+-??  " in text  # the key, accents dropped, CJK as ?
    # an error naming things the terminal cannot show: one line, degraded, exit 2
    proc = cli(locale, "compare", "--data", str(unicode_data), "--model", "Zürich—nope", "--hardware", "b200",
               "--precision", "fp4", "--sequence", "1k/1k")
    assert proc.returncode == 2 and proc.stdout == b""
    err = _ascii(proc.stderr)
    assert err.startswith("specnb: error: ") and err.count("\n") == 1 and "zurich-nope/b200" in err
    # a file name the locale cannot decode: its bytes come back as they were
    missing = unicode_data.parent / "nöpe—.json"
    proc = cli(locale, "list", "--data", str(missing))
    assert proc.returncode == 2 and os.fsencode(missing) in proc.stderr
    _no_traceback(proc)


@pytest.mark.parametrize("locale", LOCALES)
def test_export_round_trips(locale, unicode_data, tmp_path):
    out = tmp_path / "pöints—.csv"
    proc = cli(locale, "export", "--data", str(unicode_data), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    _no_traceback(proc)
    assert MODEL in out.read_text(encoding="utf-8")
    back = specnb.load(out)
    assert set(back.points.framework) == {ENGINE.lower()} and len(back.points) == len(specnb.load(unicode_data).points)


def _outputs(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("comparison.*"))}


@pytest.mark.slow
@pytest.mark.parametrize("locale", LOCALES)
def test_build_and_index_under_the_locale_equal_a_utf8_build(locale, unicode_data, key, tmp_path):
    """Build (HTML, JSON), rebuild (reads its state files and suite.json back), then the same build under a UTF-8
    locale: the same comparison.json/.csv bytes, and the index and report name the model as it is."""
    args = ["build", "--no-progress", "--data", str(unicode_data), "--format", "html,json"]
    out = tmp_path / "rapports—×"
    proc = cli(locale, *args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    _no_traceback(proc)
    assert _ascii(proc.stdout.replace(os.fsencode(out), b"OUT")).endswith(" s -> OUT/index.html\n")
    again = cli(locale, *args, "--out", str(out))
    assert again.returncode == 0 and b"Nothing to rebuild: 1 report(s) up to date" in again.stdout, again.stderr
    suite = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    assert len(suite["entries"]) == 1 and suite["entries"][0]["status"] == "ok"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert key in index and key in (out / suite["entries"][0]["slug"] / "report.html").read_text(encoding="utf-8")
    utf8 = tmp_path / "utf8"
    proc = subprocess.run([sys.executable, "-m", "specnb.cli", *args, "--out", str(utf8)], capture_output=True,
                          env={**_env({}), "LC_ALL": "C.UTF-8"}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _outputs(out) == _outputs(utf8) and _outputs(out)
