"""The ``specnb`` command: list, compare, trend, diff, export and build.

Every ``SpecnbError`` is printed as one line on stderr with exit code 2; anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import signal
import sys
import threading
import unicodedata

from . import costs, names
from .errors import SpecnbError, UsageError
from .formats._rows import PERCENTILES
from .spline import SEMANTICS


#: What the terminal shows for specnb's own typography when it cannot show the character (a non-UTF-8 locale,
#: e.g. ``LC_ALL=C``); any other character it cannot show loses its accents (``é`` → ``e``) or becomes ``?``.
ASCII_FALLBACK = {"—": "-", "–": "-", "−": "-", "×": "x", "·": "-", "→": "->", "†": "+", "✓": "*", "…": "...",
                  "≈": "~", "≤": "<=", "≥": ">=", "±": "+/-", "÷": "/", "§": "S", "µ": "u", "⁶": "^6", "⁹": "^9",
                  "\u00a0": " ", "\u202f": " ", "‘": "'", "’": "'", "“": '"', "”": '"', "⏎": " "}


def _ascii_fallback(exc: UnicodeEncodeError) -> tuple[bytes, int]:
    """Codec error handler ``specnb.ascii``: ``ASCII_FALLBACK`` for what the terminal's encoding cannot show; the
    bytes of a file name the locale could not decode (``surrogateescape``) are given back as they were."""
    out = bytearray()
    for ch in exc.object[exc.start:exc.end]:
        if "\udc80" <= ch <= "\udcff":
            out.append(ord(ch) - 0xDC00)
            continue
        plain = ASCII_FALLBACK.get(ch) or "".join(c for c in unicodedata.normalize("NFKD", ch) if c.isascii())
        out += (plain or "?").encode("ascii")
    return bytes(out), exc.end


codecs.register_error("specnb.ascii", _ascii_fallback)


def _utf8(stream) -> bool:
    """Whether ``stream`` can show every character (its encoding is UTF-8)."""
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")
    except LookupError:
        return False


def _terminal_degrades() -> None:
    """Where the terminal cannot show a character, print ``ASCII_FALLBACK`` instead of raising (the one place CLI
    output is made safe: every ``print`` of the command goes through these streams)."""
    for stream in (sys.stdout, sys.stderr):
        if not _utf8(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="specnb.ascii")


def _name(arg: str) -> str:
    """A name given on the command line (model, GPU, ``--meta`` value) as the text the user typed: under a
    non-UTF-8 locale Python keeps the bytes it could not decode as surrogates (PEP 383), which would never equal
    the UTF-8 names read from the data. (File paths keep the locale's form: that is what opens the file.)"""
    return os.fsencode(arg).decode("utf-8", "surrogateescape") if any("\udc80" <= c <= "\udcff" for c in arg) else arg


def _print_json(value) -> None:
    """``value`` as indented JSON: as is on a UTF-8 stream, else with ``\\u`` escapes (lossless, still JSON)."""
    print(json.dumps(value, indent=1, ensure_ascii=not _utf8(sys.stdout)))


def _key_values(items, what: str, *, numeric: bool) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            msg = f"{what} {item!r}: expected KEY=VALUE, e.g. b200=2.10"
            raise UsageError(msg)
        if numeric:
            try:
                out[key.strip().lower()] = float(value)
            except ValueError:
                msg = f"{what} {item!r}: {value!r} is not a number"
                raise UsageError(msg) from None
        else:
            out[key.strip()] = value.strip()
    return out


def _common(p: argparse.ArgumentParser, *, data: bool = True) -> None:
    """The options every command takes; ``data=False``: a command that names its data sets otherwise (``diff``)
    and takes no ``--as-of``."""
    g = p.add_argument_group("data and costing")
    if data:
        g.add_argument("--data", action="append", metavar="PATH",
                       help="benchmark file or folder (repeatable); default: the bundled data/")
    g.add_argument("--meta", action="append", type=_name, metavar="KEY=VALUE",
                   help="configuration field for raw client results that their file names lack, "
                        "e.g. hardware=h200 (repeatable)")
    g.add_argument("--model-alias", action="append", type=_name, metavar="NAME=KEY",
                   help="read model NAME (an id, path or display name; exact, case-insensitive) as model KEY, "
                        "e.g. my-r1-finetune=dsr1 (repeatable); see `specnb list --models`")
    g.add_argument("--semantics", default="specnb", choices=SEMANTICS,
                   help="specnb (default: no extrapolation) or inferencex (reproduce the public dashboard)")
    g.add_argument("--cost-table", default=costs.DEFAULT_TABLE, metavar="NAME|FILE",
                   help=f"bundled table ({', '.join(sorted(costs.bundled_tables()))}) or a CSV/YAML file")
    g.add_argument("--provider", default=costs.DEFAULT_PROVIDER, choices=costs.PROVIDERS)
    g.add_argument("--token-type", default="total", choices=costs.TOKEN_TYPES)
    g.add_argument("--gpu-cost", action="append", type=_name, metavar="GPU=USD", help="override one GPU's $/GPU-hour")
    g.add_argument("--gpu-kw", action="append", type=_name, metavar="GPU=KW", help="override one GPU's all-in kW")
    rows = p.add_argument_group("which rows")
    rows.add_argument("--percentile", default="median", metavar="|".join(PERCENTILES),
                      help="latency percentile: interactivity is 1 / its TPOT, TTFT and E2E are read at it; points "
                           "without it are left out (default median)")
    if not data:
        return
    rows.add_argument("--as-of", metavar="YYYY-MM-DD",
                      help="the data as it stood that day: rows dated after it are left out, then the newest row "
                           "per line and concurrency is used (default: every row)")


def _dataset(args):
    """The command's data; what loading left out is said on stderr, one line each."""
    from .data import load

    dataset = load(args.data, meta=_key_values(args.meta, "--meta", numeric=False),
                   model_aliases=list(args.model_alias or ()))
    for note in dataset.notes:
        print(f"specnb: note: {note}", file=sys.stderr)
    return dataset


def _cost_table(args, gpu: str):
    return costs.with_overrides(costs.load_cost_table(args.cost_table), names.hardware_key(gpu),
                                gpu_cost=_key_values(args.gpu_cost, "--gpu-cost", numeric=True),
                                gpu_kw=_key_values(args.gpu_kw, "--gpu-kw", numeric=True), provider=args.provider)


def _rows_text(rows: list[list[str]]) -> list[str]:
    """Aligned columns, the first row a header underlined with dashes."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _print_rows(rows: list[list[str]]) -> None:
    print("\n".join(_rows_text(rows)))


def list_models(dataset) -> list[dict]:
    """The known models (dashboard keys and labels) and every other model key in the data, with the ids
    that were read as each key and their point counts."""
    ids = dataset.history.groupby("model")["model_id"].unique()
    counts = dataset.points["model"].value_counts()
    keys = [m.key for m in names.known_models()]
    keys += sorted(k for k in counts.index if k not in keys)
    return [{"model": k, "label": names.model_label(k), "known": k in {m.key for m in names.known_models()},
             "points": int(counts.get(k, 0)), "ids": sorted(str(i) for i in ids.get(k, []))} for k in keys]


def cmd_list(args) -> int:
    dataset = _dataset(args)
    if args.models:
        models = list_models(dataset)
        if args.format == "json":
            _print_json(models)
            return 0
        _print_rows([["model", "label", "points", "ids in the data"]] + [
            [m["model"], m["label"] if m["known"] else "(not a dashboard key)", str(m["points"]),
             ", ".join(m["ids"]) or "—"] for m in models])
        return 0
    arms = tuple(a.strip() for a in args.arms.split(","))
    configs = dataset.configurations(all_configs=args.all, arms=arms, as_of=args.as_of, percentile=args.percentile)
    records = [{"model": r.model, "hardware": r.hardware, "precision": r.precision, "isl": int(r.isl),
                "osl": int(r.osl), "points": dict(sorted(r.points.items()))} for r in configs.itertuples()]
    if args.format == "json":
        _print_json(records)
        return 0
    if not records:
        print(f"no configurations with points for every arm{_scope(args)}; try --all")
        return 0
    methods = sorted({m for r in records for m in r["points"]}, key=lambda m: (m != arms[0], m))
    header = ["model", "label", "hardware", "precision", "sequence"] + \
        [f"{names.spec_label(m)} pts" for m in methods]
    _print_rows([header] + [[r["model"], names.model_label(r["model"]), r["hardware"], r["precision"],
                             names.sequence_label(r["isl"], r["osl"])]
                            + [str(r["points"].get(m, 0)) for m in methods] for r in records])
    kind = "configurations" if args.all else f"configurations with {' and '.join(names.spec_label(a) for a in arms)}"
    print(f"\n{len(records)} {kind}{_scope(args)}")
    return 0


def _scope(args) -> str:
    """Words for the rows ``--as-of`` and ``--percentile`` select (see ``data.selection_words``)."""
    from .data import selection_words

    return selection_words(args.as_of, args.percentile)


def _compare(args, dataset, *, strict: bool):
    from .comparison import compare

    return compare(dataset, args.model, args.hardware, args.precision, args.sequence, strict_targets=strict,
                   as_of=args.as_of, **_arm_options(args))


def render_text(c) -> str:
    from . import fmt, narrative
    from .table import terminal_table

    out = [c.title, "=" * len(c.title)]
    rate = c.rate
    out.append(f"Cost table {rate.table}, {rate.provider}: "
               f"{'$' + format(rate.usd_per_gpu_hour, 'g') + '/GPU-h' if rate.usd_per_gpu_hour else 'no rate'}, "
               f"{format(rate.kw_per_gpu, 'g') + ' kW/GPU' if rate.kw_per_gpu else 'no power figure'}; "
               f"token type {c.token_type}; semantics {c.semantics}")
    out.append(f"Rows: latency percentile {c.percentile} (interactivity = 1 / {c.percentile} TPOT); "
               + (f"data as of {c.as_of}" if c.as_of else "latest data"))
    if c.band is not None:
        out.append(f"Matched band ({c.band.kind}): {fmt.fmt_band(round(c.band.shown_low, 1), round(c.band.shown_high, 1))}"
                   f" tok/s/user; targets: {', '.join(fmt.fmt_interactivity(t.interactivity) for t in c.targets)}")
    if c.crossovers:
        out.append("Crossovers: " + ", ".join(f"~{x.interactivity:.1f} tok/s/user ({names.spec_label(x.leader_above)} "
                                             "leads above)" for x in c.crossovers))
    else:
        out.append("Crossovers: none inside the band")
    out.append("")
    out.append(terminal_table(c))
    out.append("")
    cav = narrative.caveat(c)
    if cav:
        out += ["Caveat: " + cav, ""]
    for para in narrative.paragraphs(c):
        out += [para, ""]
    if c.comparable:
        for note in c.notes:
            out.append("Note: " + note)
    prov = c.provenance
    out.append(f"Data: {prov['points']} points from {len(prov['files'])} file(s), {len(prov['runs'])} run(s)"
               + (f", {prov['dates'][0]} to {prov['dates'][1]}" if prov["dates"] else ""))
    return "\n".join(out).rstrip() + "\n"


def cmd_compare(args) -> int:
    c = _compare(args, _dataset(args), strict=True)
    if args.format == "json":
        _print_json(c.to_dict())
    else:
        sys.stdout.write(render_text(c))
    return 0


def _arm_options(args) -> dict:
    """The comparison options every comparing command shares (arms, targets, semantics, costs, percentile)."""
    return {"arms": tuple(a.strip() for a in args.arms.split(",")), "targets": args.targets,
            "semantics": args.semantics, "cost_table": _cost_table(args, args.hardware), "provider": args.provider,
            "token_type": args.token_type, "percentile": args.percentile}


def cmd_trend(args) -> int:
    from . import trends

    t = trends.compute(_dataset(args), args.model, args.hardware, args.precision, args.sequence, as_of=args.as_of,
                       **_arm_options(args))
    if args.format == "json":
        _print_json(t.to_dict())
    else:
        sys.stdout.write(render_trend_text(t))
    return 0


def render_trend_text(t) -> str:
    """A trend as a terminal table: one row per date, one column per target; † marks a ratio on thin data."""
    from . import fmt, narrative

    treat, base = names.spec_label(t.treatment), names.spec_label(t.baseline)
    cfg = t.config
    title = (f"{treat}/{base} throughput ratio over time — {names.model_label(cfg.model)} · "
             f"{names.hardware_label(cfg.hardware)} {cfg.precision.upper()} · {cfg.sequence}")
    out = [title, "=" * len(title),
           "At fixed interactivities: " + (f"{', '.join(fmt.fmt_interactivity(x) for x in t.targets)} tok/s/user"
                                           if t.targets else "none") + "; "
           f"latency percentile {t.percentile}; " + (f"data as of {t.as_of}" if t.as_of else "all the data"), ""]
    if t.points:
        rows = [["date"] + [f"{fmt.fmt_interactivity(x)} tok/s/user" for x in t.targets] + ["matched band"]]
        for day in t.dates:
            at = [p for p in t.points if p.date == day]
            band = next((p.band for p in at if p.band), None)
            rows.append([day or "(undated)"]
                        + [fmt.DASH if p.ratio is None else f"{p.ratio:.2f}×" + (fmt.THIN_MARK if p.grade == "sparse"
                                                                                 else "") for p in at]
                        + [fmt.fmt_band(round(band[0], 1), round(band[1], 1)) if band else "none"])
        out += _rows_text(rows) + ["", f"{fmt.THIN_MARK} thin data (support grade sparse): an estimate; "
                                       f"{fmt.DASH}: an arm not measured at that interactivity that day.", ""]
    out.append(narrative.trend_sentence(t))
    out += [f"Note: {n}" for n in t.notes]
    return "\n".join(out).rstrip() + "\n"


def cmd_diff(args) -> int:
    from . import diff
    from .data import load

    meta = _key_values(args.meta, "--meta", numeric=False)
    sides = {}
    for name, paths in (("old", args.old), ("new", args.new)):
        sides[name] = load(paths, meta=meta, model_aliases=list(args.model_alias or ()))
        for note in sides[name].notes:
            print(f"specnb: note: --{name}: {note}", file=sys.stderr)
    result = diff.diff(sides["old"], sides["new"], arms=tuple(a.strip() for a in args.arms.split(",")),
                       targets=args.targets, semantics=args.semantics,
                       cost_table=costs.load_cost_table(args.cost_table), provider=args.provider,
                       token_type=args.token_type, percentile=args.percentile, paths={"old": args.old, "new": args.new})
    doc = result.to_dict()
    if args.out:
        from . import diffpage
        from .extras import require

        require("reports", "specnb diff --out")
        page = diffpage.write_page(doc, args.out)
        print(f"wrote {page} and {page.with_name(diffpage.DIFF_FILE)}", file=sys.stderr)
    if args.format == "json":
        _print_json(doc)
    else:
        sys.stdout.write(render_diff_text(doc))
    return 0


def render_diff_text(doc: dict) -> str:
    """A diff as a terminal table: every configuration at its mid-band target, every target of a changed one."""
    from . import fmt
    from .diff import left_out_note
    from .diffpage import CHANGE_WORDS, band_text, change_text, ratio_text

    counts = doc["counts"]
    out = [f"What changed: {' '.join(doc['old']['paths'])} -> {' '.join(doc['new']['paths'])}",
           f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed, "
           f"{counts['unchanged']} unchanged; MTP/Off throughput ratio, old and new data at the same interactivities",
           ""]
    rows = [["configuration", "change", "at tok/s/user", "old", "new", "change", "band old -> new", "frontier +/-"]]
    for e in doc["configurations"]:
        frontier = e["frontier"]
        moved = f"+{len(frontier['added'])} -{len(frontier['dropped'])}" if e["change"] == "changed" else ""
        band = f"{band_text(e['old'])} -> {band_text(e['new'])}"
        targets = e["targets"] if e["change"] == "changed" else [
            {"interactivity": e["interactivity"], "old": e["old"], "new": e["new"], "ratio_change": e["ratio_change"]}]
        for i, t in enumerate(targets or [{"interactivity": None, "old": None, "new": None, "ratio_change": None}]):
            first = i == 0
            rows.append([e["title"] if first else "", CHANGE_WORDS[e["change"]] if first else "",
                         fmt.fmt_interactivity(t["interactivity"]), ratio_text(t["old"]), ratio_text(t["new"]),
                         change_text(t["ratio_change"]), band if first else "", moved if first else ""])
    out += _rows_text(rows)
    out += ["", f"{fmt.THIN_MARK} thin data (an estimate); {fmt.DASH}: no ratio on that side. Every target of a "
                "changed configuration is listed; --format json or --out DIR give the frontier points that are new "
                "or gone."]
    out += [note] if (note := left_out_note(doc)) else []
    return "\n".join(out) + "\n"


def cmd_export(args) -> int:
    from .csvfiles import write_points_csv
    from .data import measuring, points_as_of, rows_as_of

    dataset = _dataset(args)
    frame = (rows_as_of if args.history else points_as_of)(dataset.history, args.as_of)
    write_points_csv(measuring(frame, args.percentile), args.out)
    print(f"wrote {len(frame)} points to {args.out}", file=sys.stderr)
    return 0


def cmd_build(args) -> int:
    from .build import run_build_command
    from .extras import require

    require("reports", "specnb build")

    _dataset(args)  # loading errors and notes first (the build's own load is then a cache hit)
    return run_build_command(args, meta=_key_values(args.meta, "--meta", numeric=False),
                             gpu_cost=_key_values(args.gpu_cost, "--gpu-cost", numeric=True),
                             gpu_kw=_key_values(args.gpu_kw, "--gpu-kw", numeric=True))


def _config_arguments(p: argparse.ArgumentParser) -> None:
    """One configuration and how to compare it: what ``compare`` and ``trend`` take."""
    p.add_argument("--model", required=True, type=_name)
    p.add_argument("--hardware", required=True, type=_name)
    p.add_argument("--precision", required=True, type=_name)
    p.add_argument("--sequence", required=True, type=_name, help="e.g. 1k/1k, 1k/8k, 8k/1k")
    p.add_argument("--targets", help="interactivities (tok/s/user), e.g. 30,50,80; default 25/50/75 %% of the band "
                   "(trend: of the newest data's band, the same every day)")
    p.add_argument("--arms", default="mtp,none", type=_name, help="treatment first, baseline last (default mtp,none)")
    p.add_argument("--format", default="text", choices=("text", "json"))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="specnb", description="MTP vs Off at matched interactivity: "
                                "throughput per GPU, cost per token and power, from benchmark sweeps.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    pl = sub.add_parser("list", help="configurations with point counts per arm")
    _common(pl)
    pl.add_argument("--format", default="text", choices=("text", "json"))
    pl.add_argument("--all", action="store_true", help="include configurations that lack an arm")
    pl.add_argument("--arms", default="mtp,none", type=_name, help="arms a configuration needs (default mtp,none)")
    pl.add_argument("--models", action="store_true",
                    help="the model keys and labels instead: the dashboard's, then any other in the data, with "
                         "the ids read as each")
    pl.set_defaults(func=cmd_list)

    pc = sub.add_parser("compare", help="one configuration's comparison as a table or JSON")
    _common(pc)
    _config_arguments(pc)
    pc.set_defaults(func=cmd_compare)

    pt = sub.add_parser("trend", help="one configuration's MTP/Off ratio at fixed interactivities on every day its "
                        "data changed (the comparison as of each day)")
    _common(pt)
    _config_arguments(pt)
    pt.set_defaults(func=cmd_trend)

    pdf = sub.add_parser("diff", help="what changed between two data sets, configuration by configuration")
    pdf.add_argument("--old", action="append", required=True, metavar="PATH",
                    help="the earlier data set: file or folder (repeatable), e.g. data/inferencex-api/2026-05-05")
    pdf.add_argument("--new", action="append", required=True, metavar="PATH",
                    help="the later data set: file or folder (repeatable), e.g. data/inferencex-api/2026-06-14")
    _common(pdf, data=False)
    pdf.add_argument("--targets", help="interactivities (tok/s/user) for every configuration, e.g. 40,60; default: "
                    "each configuration's new comparison's 25/50/75 %% of the band")
    pdf.add_argument("--arms", default="mtp,none", type=_name, help="treatment first, baseline last (default mtp,none)")
    pdf.add_argument("--format", default="text", choices=("text", "json"))
    pdf.add_argument("--out", metavar="DIR", help="also write DIR/diff.html (offline) and DIR/diff.json")
    pdf.set_defaults(func=cmd_diff)

    pe = sub.add_parser("export", help="write the loaded points as a canonical CSV (with --as-of: as of that day; "
                        "with --percentile p90|p99: only the points that measure it)")
    _common(pe)
    pe.add_argument("--out", required=True, help="CSV file to write")
    pe.add_argument("--history", action="store_true", help="all rows, not only the latest per line")
    pe.set_defaults(func=cmd_export)

    try:
        from .build import add_build_parser
    except ImportError:  # pragma: no cover - build is part of the package
        add_build_parser = None
    if add_build_parser is not None:
        pb = sub.add_parser("build", help="build the report suite (HTML, PDF, JSON) and its index")
        _common(pb)
        add_build_parser(pb)
        pb.set_defaults(func=cmd_build)
    return p


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C's ``KeyboardInterrupt`` would be: the same clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    for sig in (signal.SIGTERM, signal.SIGHUP):  # a second one ends the process at once (children follow it)
        signal.signal(sig, signal.SIG_DFL)
    raise Terminated(signum)


STOPPED = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated (SIGTERM)", signal.SIGHUP: "hung up (SIGHUP)"}


def main(argv=None) -> int:
    """Run the command; SIGTERM and SIGHUP (a closed terminal, `timeout`, a cancelled CI job) stop it as Ctrl-C
    does, with one line and exit code 128 + the signal's number."""
    if threading.current_thread() is not threading.main_thread():  # signal handlers belong to the main thread
        return _main(argv)
    saved = {sig: signal.signal(sig, _terminate) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return _main(argv)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _main(argv) -> int:
    _terminal_degrades()
    args = parser().parse_args(argv)
    if args.version:
        from . import __version__
        print(f"specnb {__version__}")
        return 0
    if not getattr(args, "func", None):
        parser().print_help()
        return 2
    try:
        return args.func(args)
    except SpecnbError as exc:
        print(f"specnb: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `specnb list | head`
        return 0
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        try:  # after SIGHUP the terminal may be gone
            print(f"specnb: {STOPPED[signum]}; reports already written are complete (rerun to finish)",
                  file=sys.stderr)
        except OSError:
            pass
        return 128 + signum


def run() -> None:
    """The ``specnb`` command: ``main``, then a quick exit.

    Tearing down the interpreter after a build (freeing pandas, scipy, IPython and the rest, module by
    module) takes ~0.3 s here, a tenth of a single report's build; like mypy, the command skips it: output
    is flushed and the exit handlers run, then the process ends.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, e.g. `specnb list | head`
            pass
    import atexit

    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_handlers is None:  # not CPython: exit normally
        sys.exit(code)
    run_exit_handlers()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
