"""The comparison table: rows of metrics, one column per target and arm, winners marked.

Rendered as HTML (Jupyter ``_repr_html_`` and reports; every data-derived string escaped) and as
plain text for the terminal. Cells read values from the ``Comparison``; formatting comes from ``fmt``.
An arm's column at a target whose values rest on thin data (support grade "sparse") gets one small ``†``, in
its header and on the last row, which names the measurements each value is read between; the numbers stay as
they are, and the legend says what ``†`` means.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

from . import fmt, names
from .comparison import TIE_THRESHOLD, ArmValues, Comparison, Target
from .support import SPARSE_FACTOR


@dataclass(frozen=True)
class Row:
    label: str
    value: Callable[[ArmValues], float | None]
    text: Callable[[ArmValues], str]
    better: str | None  # "high", "low" or None (no winner marked)


def rows_for(c: Comparison) -> list[Row]:
    tokens = "" if c.token_type == "total" else f" {c.token_type}"
    usd, kw = c.rate.usd_per_gpu_hour is not None, c.rate.kw_per_gpu is not None
    pct = "Median" if c.percentile == "median" else c.percentile
    return [
        Row("Throughput (tok/s/GPU)", lambda v: v.throughput_per_gpu, lambda v: fmt.fmt_throughput(v.throughput_per_gpu),
            "high"),
        Row(f"Cost ($/M{tokens} tokens)", lambda v: v.cost_per_mtok,
            lambda v: fmt.fmt_cost(v.cost_per_mtok, measured=v.measured, rated=usd), "low"),
        Row(f"Tokens per $ ({c.token_type})", lambda v: v.tokens_per_dollar,
            lambda v: fmt.fmt_tokens_per_dollar(v.tokens_per_dollar, measured=v.measured, rated=usd), "high"),
        Row(f"tok/s per MW ({c.token_type}, provisioned)", lambda v: v.tok_s_per_mw,
            lambda v: fmt.fmt_power(v.tok_s_per_mw, measured=v.measured, rated=kw), "high"),
        *energy_rows(c),
        Row("Concurrency", lambda v: v.concurrency, lambda v: fmt.fmt_concurrency(v.concurrency), None),
        Row(f"{pct} TTFT", lambda v: v.ttft_s, lambda v: fmt.fmt_seconds(v.ttft_s), "low"),
        Row(f"{pct} E2E latency", lambda v: v.e2el_s, lambda v: fmt.fmt_seconds(v.e2el_s), "low"),
    ]


def energy_rows(c: Comparison) -> list[Row]:
    """Measured J per token, next to the provisioned tok/s per MW; only where some frontier point records power
    (elsewhere a row of "not measured" would say nothing the methodology does not)."""
    if not c.energy_measured:
        return []
    return [Row("Energy (J/total token, measured)", lambda v: v.joules_per_total_token,
                lambda v: fmt.fmt_joules(v.joules_per_total_token), "low")]


def best_arm(row: Row, t: Target) -> str | None:
    """The arm whose value is better by more than the tie threshold, or None."""
    if row.better is None:
        return None
    vals = {a: row.value(v) for a, v in t.arms.items()}
    vals = {a: float(x) for a, x in vals.items() if x is not None and math.isfinite(x)}
    if len(vals) < 2:
        return None
    ranked = sorted(vals.items(), key=lambda kv: kv[1], reverse=row.better == "high")
    first, second = ranked[0][1], ranked[1][1]
    if abs(first - second) <= TIE_THRESHOLD * max(abs(first), abs(second)):
        return None
    return ranked[0][0]


SUPPORT_LABEL = "Nearest measurements (tok/s/user)"


def _sparse(t: Target, arm: str) -> bool:
    s = t.support.get(arm)
    return bool(s and s.sparse)


def matrix(c: Comparison) -> list[dict]:
    """Row label, then per (target, arm) the formatted text, whether it is the winner and whether it rests on
    thin data; the last row names the measurements each value is read between."""
    out = []
    for row in rows_for(c):
        cells = []
        for t in c.targets:
            best = best_arm(row, t)
            for arm in c.arms:
                v = t.arms[arm]
                text = row.text(v)
                measured = v.measured and text != fmt.NOT_MEASURED
                cells.append({"target": t.interactivity, "arm": arm, "text": text, "best": arm == best,
                              "measured": measured, "clamped": v.clamped, "sparse": measured and _sparse(t, arm)})
        out.append({"label": row.label, "cells": cells})
    out.append({"label": SUPPORT_LABEL, "support": True, "cells": [
        {"target": t.interactivity, "arm": arm, "text": _support_text(t, arm), "best": False,
         "measured": t.arms[arm].measured, "clamped": False, "sparse": _sparse(t, arm)}
        for t in c.targets for arm in c.arms]})
    return out


def _support_text(t: Target, arm: str) -> str:
    s = t.support.get(arm)
    if s is None:
        return fmt.DASH
    return fmt.fmt_support(t.interactivity, s.grade, s.left.interactivity if s.left else None,
                           s.right.interactivity if s.right else None)


def thin_legend(c: Comparison) -> str | None:
    """What ``†`` means, when some value of the table carries it."""
    if not any(t.sparse_arms for t in c.targets):
        return None
    return (f"{fmt.THIN_MARK} thin data: the nearest measurements on either side differ more than "
            f"{SPARSE_FACTOR:g}× in throughput (or lie on one side only), so the value between them is an estimate.")


TABLE_CSS = """
<style>
table.specnb-table{border-collapse:collapse;font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:.5em 0}
table.specnb-table th,table.specnb-table td{border:1px solid #d0d4da;padding:4px 8px;text-align:right;white-space:nowrap}
table.specnb-table th{background:#f3f5f8;font-weight:600}
table.specnb-table th.metric,table.specnb-table td.metric{text-align:left}
table.specnb-table td.best{font-weight:700;background:#e8f4ea}
table.specnb-table td.best::after{content:" ✓";color:#1b7f3b}
table.specnb-table td.missing{color:#8a8f98;font-style:italic}
table.specnb-table caption{caption-side:bottom;text-align:left;color:#555;font-size:12px;padding-top:4px;
white-space:normal}
table.specnb-table .thin{color:#a15c00;font-weight:400;padding-left:1px}
table.specnb-table tr.support td{color:#5f6670;font-size:.92em;border-top:2px solid #d0d4da}
div.specnb-comparison{break-inside:avoid}
.specnb-table-print{display:none}
</style>
"""


PRINT_COLUMNS = 6
"""Value columns (targets × arms) one printed table holds: three targets of two arms fit an A4 page's width."""


def comparison_html(c: Comparison, *, include_css: bool = True) -> str:
    """The comparison table as an HTML fragment; every data-derived string is escaped.

    A table wider than ``PRINT_COLUMNS`` value columns also comes as consecutive narrower tables, shown
    only in print (the PDF): on a screen the wide one scrolls, on paper it would be cut off."""
    esc = html.escape
    title = esc(c.title)
    css = TABLE_CSS if include_css else ""
    if not c.comparable:
        notes = "".join(f"<li>{esc(n)}</li>" for n in c.notes)
        return (css + f'<div class="specnb-table"><strong>{title}</strong>'
                f"<p>No matched comparison.</p><ul>{notes}</ul></div>")
    caption = (f"{esc(c.rate.table)} cost table, {esc(c.rate.provider)} rate; ✓ marks the better value "
               f"(differences under 1 % are not marked); {esc(c.semantics)} semantics; {esc(c.percentile)} latencies"
               f"{'; data as of ' + esc(c.as_of) if c.as_of else ''}.")
    if any(v.clamped for t in c.targets for v in t.arms.values()):
        caption += " * clamped to the frontier end (inferencex semantics)."
    legend = thin_legend(c)
    if legend:
        caption += f"<br>{esc(legend)}"
    rows = matrix(c)
    wide = _table(c, range(len(c.targets)), rows, caption)
    per_table = max(1, PRINT_COLUMNS // len(c.arms))
    if len(c.targets) <= per_table:
        return css + wide
    count = -(-len(c.targets) // per_table)  # as few tables as fit, sizes balanced (7 targets: 3, 2, 2)
    base, extra = divmod(len(c.targets), count)
    starts = [i * base + min(i, extra) for i in range(count + 1)]
    chunks = [range(starts[i], starts[i + 1]) for i in range(count)]
    printed = "".join(_table(c, chunk, rows, caption if chunk is chunks[-1] else "") for chunk in chunks)
    return css + f'<div class="specnb-table-screen">{wide}</div><div class="specnb-table-print">{printed}</div>'


_THIN_HTML = f'<span class="thin" title="thin data">{fmt.THIN_MARK}</span>'


def _table(c: Comparison, targets: range, rows: list[dict], caption: str) -> str:
    """One ``<table>`` of the comparison for the targets at ``targets`` (indexes into ``c.targets``)."""
    esc = html.escape
    arms = len(c.arms)
    head1 = '<th class="metric" rowspan="2">Metric</th>' + "".join(
        f'<th colspan="{arms}">{esc(fmt.fmt_interactivity(c.targets[i].interactivity))} tok/s/user</th>'
        for i in targets)
    head2 = "".join(f"<th>{esc(names.spec_label(a))}{_THIN_HTML if _sparse(c.targets[i], a) else ''}</th>"
                    for i in targets for a in c.arms)
    body = []
    for row in rows:
        tds = []
        for i in targets:
            for cell in row["cells"][i * arms:(i + 1) * arms]:
                cls = "best" if cell["best"] else ("missing" if not cell["measured"] else "")
                mark = "*" if cell["clamped"] else ""
                thin = _THIN_HTML if cell["sparse"] and row.get("support") else ""
                tds.append(f'<td class="{cls}">{esc(cell["text"])}{mark}{thin}</td>')
        tr = '<tr class="support">' if row.get("support") else "<tr>"
        body.append(f'{tr}<td class="metric">{esc(row["label"])}</td>{"".join(tds)}</tr>')
    cap = f"<caption>{caption}</caption>" if caption else ""
    # one block with its caption (the legend), so that print never leaves the caption on the next page
    return (f'<div class="specnb-comparison"><table class="specnb-table">{cap}'
            f"<thead><tr>{head1}</tr><tr>{head2}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def terminal_table(c: Comparison) -> str:
    """The comparison table as aligned plain text (winners marked with ✓)."""
    if not c.comparable:
        return "No matched comparison."
    header = ["Metric"] + [f"{fmt.fmt_interactivity(t.interactivity)} {names.spec_label(a)}"
                           + (fmt.THIN_MARK if _sparse(t, a) else "") for t in c.targets for a in c.arms]
    lines = [header]
    for row in matrix(c):
        lines.append([row["label"]] + [cell["text"] + ("*" if cell["clamped"] else "")
                                       + (fmt.THIN_MARK if cell["sparse"] and row.get("support") else "")
                                       + (" ✓" if cell["best"] else "")
                                       for cell in row["cells"]])
    widths = [max(len(r[i]) for r in lines) for i in range(len(header))]
    rendered = []
    for n, r in enumerate(lines):
        rendered.append("  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i])
                                  for i, cell in enumerate(r)))
        if n == 0:
            rendered.append("  ".join("-" * w for w in widths))
    legend = thin_legend(c)
    return "\n".join(rendered + ([legend] if legend else []))
