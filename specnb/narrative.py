"""Plain-language paragraphs from a ``Comparison``: one per target, consistent wording, correct arithmetic.

A cost cannot fall by more than 100 %: when Off costs 8.4× as much, MTP "costs 88 % less per token
(Off costs 8.4× as much)". A difference under 1 % is "essentially tied". Values outside an arm's
measured range are never extrapolated and the text says so.

Trust: where a ratio could move a lot if any single measurement were dropped (``RatioRange.wide``), the
sentence states the range with it; where a value rests on thin data (support grade "sparse"), the sentence
says so and names the measurements it lies between, instead of stating the number flat.
"""

from __future__ import annotations

import math

from . import fmt, names
from .comparison import TIE_THRESHOLD, Comparison, Target

POSITION_PHRASES = {"low end": "Near the low end", "middle": "Around the middle", "upper edge": "Toward the upper edge"}


def _label(arm: str) -> str:
    return names.spec_label(arm)


def _subject(c: Comparison) -> str:
    return (f"{names.model_label(c.config.model)} ({names.hardware_label(c.config.hardware)} "
            f"{c.config.precision.upper()}, {c.config.sequence})")


def _has_rate(c: Comparison) -> bool:
    return c.rate.usd_per_gpu_hour is not None


def _delivers(c: Comparison, arm: str, t: Target) -> str:
    v = t.arms[arm]
    text = f"{_label(arm)} delivers {fmt.fmt_throughput(v.throughput_per_gpu, decimals=0)} tok/s/GPU"
    if _has_rate(c) and math.isfinite(v.cost_per_mtok):  # not when the token type's throughput is not measured
        text += f" at {fmt.fmt_cost(v.cost_per_mtok)} per million {_token_word(c)}"
    if v.clamped:
        text += f" (clamped to its frontier end at {fmt.fmt_interactivity(round(v.evaluated_at, 1))} tok/s/user)"
    return text


def _token_word(c: Comparison) -> str:
    return "tokens" if c.token_type == "total" else f"{c.token_type} tokens"


def range_clause(t: Target, arm: str, *, inverted: bool = False) -> str:
    """``, between 2.1× and 3.4× if any single measurement is dropped`` where that range is wide, else ``""``.
    ``inverted``: the sentence states the baseline/arm ratio (the baseline leads)."""
    r = t.ratio_ranges.get(arm)
    if r is None or not r.wide:
        return ""
    r = r.inverted() if inverted else r
    text = f", {fmt.fmt_ratio_range(r.low, r.high)} if any single measurement is dropped"
    return text + (" (enough to change which leads)" if r.low < 1 < r.high else "")


def thin_data(c: Comparison, t: Target, *, brief: bool = False) -> str | None:
    """What the values at ``t`` that rest on thin data lie between, or None when none does; ``brief`` (for the
    headline) leaves out the measured throughputs."""
    parts = []
    for arm in t.sparse_arms:
        s = t.support[arm]
        x = fmt.fmt_knot_interactivity
        if s.left is not None and s.right is not None:
            if brief:
                parts.append(f"{_label(arm)}: nothing measured between {x(s.left.interactivity)} and "
                             f"{x(s.right.interactivity)} tok/s/user")
                continue
            parts.append(f"{_label(arm)} was measured at {x(s.left.interactivity)} and {x(s.right.interactivity)} "
                         f"tok/s/user but not in between ({fmt.fmt_throughput(s.left.throughput_per_gpu, decimals=0)}"
                         f" and {fmt.fmt_throughput(s.right.throughput_per_gpu, decimals=0)} tok/s/GPU)")
        else:
            edge, side = (s.left, "above") if s.right is None else (s.right, "below")
            parts.append(f"{_label(arm)}{':' if brief else ' has'} nothing measured {side} "
                         f"{x(edge.interactivity)} tok/s/user")
    return "; ".join(parts) or None


def comparison_sentence(c: Comparison, t: Target, arm: str, base: str) -> str:
    """Who wins at this target, by how much (and how far that could move), in throughput and in cost."""
    a, b = t.arms[arm].throughput_per_gpu, t.arms[base].throughput_per_gpu
    if abs(a / b - 1) < TIE_THRESHOLD:
        r = t.ratio_ranges.get(arm)
        spread = (f"; {_label(arm)}/{_label(base)} {fmt.fmt_ratio_range(r.low, r.high)} if any single measurement "
                  "is dropped" if r is not None and r.wide else "")
        return f"{_label(arm)} and {_label(base)} are essentially tied (within 1 %{spread})."
    win, lose = (arm, base) if a > b else (base, arm)
    ratio = max(a, b) / min(a, b)
    gain = (f"delivers {fmt.fmt_ratio(ratio)} the throughput per GPU (+{(ratio - 1) * 100:.0f} %)"
            + range_clause(t, arm, inverted=win == base))
    cw, cl = t.arms[win].cost_per_mtok, t.arms[lose].cost_per_mtok
    if _has_rate(c) and math.isfinite(cw) and math.isfinite(cl):
        cost_ratio = cl / cw
        return (f"{_label(win)} costs {fmt.fmt_pct(1 - 1 / cost_ratio)} less per {_token_word(c)[:-1]} "
                f"({_label(lose)} costs {fmt.fmt_ratio(cost_ratio)} as much) and {gain}.")
    return f"{_label(win)} {gain}."


def target_paragraph(c: Comparison, t: Target) -> str:
    band = c.band
    where = (f"{POSITION_PHRASES[t.position]} of the {fmt.fmt_band(band.shown_low, band.shown_high)} tok/s/user "
             f"band, at {fmt.fmt_interactivity(t.interactivity)} tok/s/user on {_subject(c)}")
    missing = [a for a in c.arms if not t.arms[a].measured]
    if missing:
        measured = [a for a in c.arms if t.arms[a].measured]
        parts = []
        for arm in missing:
            rng = c.frontiers[arm].x_range
            span = f"its frontier spans {fmt.fmt_band(round(rng[0], 1), round(rng[1], 1))} tok/s/user" if rng else \
                "it has no measured points"
            parts.append(f"{_label(arm)} was not measured here ({span})")
        text = f"{where}: " + "; ".join(parts)
        if measured:
            text += "; " + "; ".join(_delivers(c, a, t) for a in measured)
        return text + ". No comparison is made at this point: specnb never extrapolates."
    sentences = [f"{where}: " + "; ".join(_delivers(c, a, t) for a in c.arms) + "."]
    for arm in c.arms[:-1]:
        sentences.append(comparison_sentence(c, t, arm, c.baseline))
    thin = thin_data(c, t)
    if thin:
        sentences.append(f"Thin data ({fmt.THIN_MARK}): {thin}, so this comparison is an estimate.")
    return " ".join(sentences)


def crossover_sentence(c: Comparison) -> str | None:
    if not c.crossovers:
        return None
    parts = []
    for i, x in enumerate(c.crossovers):
        verb = "overtakes" if i == 0 else "leads again over"
        parts.append(f"{_label(x.leader_above)} {verb} {_label(x.leader_below)} above "
                     f"~{x.interactivity:.0f} tok/s/user")
    text = "; ".join(parts)
    return f"The throughput winner changes inside the band: {text}."


def caveat(c: Comparison) -> str | None:
    """The cross-engine caveat, when the arms' frontier points come from different engines."""
    if not c.engines_differ:
        return None
    listed = "; ".join(f"{_label(a)}: {', '.join(e) or 'none'}" for a, e in c.engines.items())
    return ("The arms' frontier points come from different inference engines "
            f"({listed}). Engines implement draft-token acceptance differently, so part of the gap shown "
            "here may come from the engine rather than from speculative decoding itself.")


def headline(c: Comparison) -> str:
    """One sentence for the top of the report and the suite index."""
    if not c.comparable:
        return "No matched comparison: " + (c.notes[0] if c.notes else "the arms do not overlap.")
    mid = c.targets[len(c.targets) // 2]
    if not all(v.measured for v in mid.arms.values()):
        return f"At {fmt.fmt_interactivity(mid.interactivity)} tok/s/user one arm was not measured."
    text = (f"At {fmt.fmt_interactivity(mid.interactivity)} tok/s/user (mid-band): "
            + comparison_sentence(c, mid, c.treatment, c.baseline))
    thin = thin_data(c, mid, brief=True)
    return f"{text[:-1]} — an estimate on thin data ({thin})." if thin else text


def paragraphs(c: Comparison) -> list[str]:
    """The report's narrative: one paragraph per target, then the crossover, then thin-data notes."""
    if not c.comparable:
        return list(c.notes) or ["No matched comparison is possible for this configuration."]
    out = [target_paragraph(c, t) for t in c.targets]
    cross = crossover_sentence(c)
    if cross:
        out.append(cross)
    return out


# ---------------------------------------------------------------------------------------------- history

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def _day(date: str) -> str:
    """``2026-05-20`` → ``20 May 2026``."""
    year, month, day = date.split("-")
    return f"{int(day)} {MONTHS[int(month) - 1]} {year}"


def _when(first: str, last: str) -> tuple[str, str]:
    """How two dates read in a sentence: by month (``in February``, ``in June 2026``), by day when they share a
    month, with the year on both when they differ in it."""
    if first[:7] == last[:7]:
        same_year = _day(first).rsplit(" ", 1)[0]
        return f"on {same_year}", f"on {_day(last)}"
    y1, m1 = first.split("-")[:2]
    y2, m2 = last.split("-")[:2]
    start = MONTHS[int(m1) - 1] + (f" {y1}" if y1 != y2 else "")
    return f"in {start}", f"in {MONTHS[int(m2) - 1]} {y2}"


def trend_sentence(t) -> str:
    """One sentence on how the ratio at the mid-band target moved over the data's dates (a ``trends.Trend``):
    "MTP's advantage at 101 tok/s/user went from 1.9× in February to 2.8× in June 2026", or why there is no
    history to tell (one date, no matched band)."""
    x = t.mid_target
    treat, base = _label(t.treatment), _label(t.baseline)
    if x is None:
        return f"No history: the newest data has no matched {treat}/{base} band to follow over time."
    dates = [d for d in t.dates if d]
    if not dates:
        return f"No row of this data is dated: there is no history of the {treat}/{base} ratio to show."
    if len(dates) < 2:
        return (f"Only one date in the data ({_day(dates[0])}): there is no history of the {treat}/{base} ratio "
                "to show yet.")
    at = f"{fmt.fmt_interactivity(x)} tok/s/user"
    known = [p for p in t.series(x) if p.ratio is not None]
    if not known:
        return (f"At {at} there is no {treat}/{base} ratio on any of the {len(dates)} dates: one arm was not "
                "measured there.")
    first, last = known[0], known[-1]
    if first is last:
        return (f"Of the {len(dates)} dates in the data, only {_day(last.date)} gives the {treat}/{base} ratio at "
                f"{at} ({fmt.fmt_ratio(last.ratio)}).")
    since, until = _when(first.date, last.date)
    subject = f"{treat}'s advantage" if min(first.ratio, last.ratio) >= 1 else f"The {treat}/{base} throughput ratio"
    if abs(last.ratio / first.ratio - 1) < TIE_THRESHOLD:
        text = f"{subject} at {at} held at {fmt.fmt_ratio(last.ratio)} from {since[3:]} to {until[3:]}"
    else:
        text = (f"{subject} at {at} went from {fmt.fmt_ratio(first.ratio)} {since} to "
                f"{fmt.fmt_ratio(last.ratio)} {until}")
    thin = [w for p, w in ((first, since), (last, until)) if p.grade == "sparse"]
    text += f" ({len(dates)} dates of data"
    if len(thin) == 2:
        text += f"; both values rest on thin data ({fmt.THIN_MARK}): estimates"
    elif thin:
        text += f"; the value {thin[0]} rests on thin data ({fmt.THIN_MARK}), an estimate"
    return text + ")."
