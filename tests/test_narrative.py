import pytest
from rows import write
from test_comparison import MTP, OFF, arm_rows, run

import specnb
from specnb import narrative


def test_percentages_are_correct(tmp_path):
    # Off costs 8.4x as much: MTP is 88 % cheaper, never "744 % cheaper"
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", [(20, 3000, 64), (60, 2402.2, 16), (100, 500, 4)])
                           + arm_rows("none", [(10, 2000, 64), (60, 285.7, 8), (90, 80, 2)])))
    c = run(ds, targets=[60])
    text = narrative.target_paragraph(c, c.targets[0])
    assert "MTP costs 88 % less per token (Off costs 8.4× as much)" in text
    assert "delivers 8.4× the throughput per GPU (+741 %)" in text
    assert "%" in text and "744" not in text


def test_off_wins_and_ties(tmp_path):
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", [(20, 1000, 64), (60, 500, 16)])
                           + arm_rows("none", [(20, 1300, 64), (40, 801, 16), (60, 501, 4)])))
    c = run(ds, targets=[20, 60])
    assert "Off costs 23 % less per token (MTP costs 1.3× as much)" in narrative.target_paragraph(c, c.targets[0])
    assert "essentially tied (within 1 %)" in narrative.target_paragraph(c, c.targets[1])


def test_band_position_and_crossover_sentence(tmp_path):
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", [(20, 1000, 64), (40, 800, 32), (60, 500, 16)])
                           + arm_rows("none", [(20, 1400, 64), (30, 1000, 32), (50, 300, 8), (60, 200, 4)])))
    c = run(ds)
    paras = narrative.paragraphs(c)
    assert paras[0].startswith("Near the low end of the 20–60 tok/s/user band, at 30 tok/s/user")
    assert paras[1].startswith("Around the middle") and paras[2].startswith("Toward the upper edge")
    assert paras[-1].startswith("The throughput winner changes inside the band: MTP overtakes Off above ~3")


def test_not_measured_sentence(tmp_path):
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", MTP) + arm_rows("none", OFF)))
    c = run(ds, targets=[90])
    text = narrative.target_paragraph(c, c.targets[0])
    assert "Off was not measured here (its frontier spans 10–80 tok/s/user)" in text
    assert "never extrapolates" in text


def test_caveat_only_when_engines_differ(tmp_path):
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", MTP, framework="trt") + arm_rows("none", OFF)))
    assert "different inference engines (MTP: trt; Off: sglang)" in narrative.caveat(run(ds))
    ds = specnb.load(write(tmp_path / "e.json", arm_rows("mtp", MTP) + arm_rows("none", OFF)))
    assert narrative.caveat(run(ds)) is None


@pytest.mark.parametrize("value, text", [(0.876, "88 %"), (0.004, "0 %")])
def test_fmt_pct(value, text):
    from specnb.fmt import fmt_pct
    assert fmt_pct(value) == text


def test_wide_range_and_thin_data_are_said_with_the_ratio(tmp_path):
    """Issue 10: MTP leads 1.3x at 50 tok/s/user, but without one measurement the ratio is 0.89x; and MTP's
    value is read between measurements 5x apart in throughput."""
    from test_support import promotion_case

    c = promotion_case(tmp_path)
    text = narrative.target_paragraph(c, c.targets[0])
    assert ("delivers 1.3× the throughput per GPU (+33 %), between 0.89× and 1.3× if any single measurement is "
            "dropped (enough to change which leads).") in text
    assert text.endswith("Thin data (†): MTP was measured at 20 and 60 tok/s/user but not in between (1,000 and "
                         "200 tok/s/GPU), so this comparison is an estimate.")
    head = narrative.headline(c)
    assert head.endswith("— an estimate on thin data (MTP: nothing measured between 20 and 60 tok/s/user).")


def test_range_follows_the_winner(tmp_path):
    """When the baseline leads, the range is stated for baseline/treatment (the ratio the sentence names)."""
    ds = specnb.load(write(tmp_path / "d.json", arm_rows("mtp", [(20, 1000, 64), (40, 700, 16), (60, 500, 4)])
                           + arm_rows("none", [(20, 1400, 64), (38, 1300, 16), (42, 400, 8), (60, 300, 4)])))
    c = run(ds, targets=[40])
    t = c.targets[0]
    r = t.ratio_range
    assert t.winner == "none" and r.wide
    text = narrative.comparison_sentence(c, t, "mtp", "none")
    assert text.startswith("Off costs") and f"between {1 / r.high:.2g}× and {1 / r.low:.1f}× if any single" in text


def test_bundled_headlines(bundled):
    """B200 FP4 1k/1k: supported, range wide; MI355X FP8 8k/1k: range narrow, stated flat; GB300 FP4: thin."""
    b200 = narrative.headline(specnb.compare("dsr1", "b200", "fp4", "1k/1k", data=bundled))
    assert b200.endswith("delivers 2.8× the throughput per GPU (+185 %), between 1.7× and 3.6× if any single "
                         "measurement is dropped.")
    mi = narrative.headline(specnb.compare("dsr1", "mi355x", "fp8", "8k/1k", data=bundled))
    assert mi.endswith("delivers 3.2× the throughput per GPU (+218 %).")
    gb = narrative.headline(specnb.compare("dsr1", "gb300", "fp4", "1k/1k", data=bundled))
    assert "delivers 28× the throughput per GPU" in gb and gb.endswith(
        "— an estimate on thin data (MTP: nothing measured between 70 and 308 tok/s/user; Off: nothing measured "
        "between 94 and 154 tok/s/user).")
