"""``tagbox eval``: a separation benchmark of tagbox configurations against a floor, a ceiling and peers.

The evaluation package (librosa, museval) is imported when the command runs, not when the CLI
builds its parsers.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tagbox.device import resolve_device
from tagbox.errors import TagboxError, UnknownNameError

logger = logging.getLogger(__name__)
DEFAULT_METHODS = "tagbox,mixture,oracle,hpss,repet"
LIST_SEPARATOR = ":"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="benchmark separation on a multitrack dataset",
        description="Separate every stem of every track with each method and report SI-SDR(i), BSSEval v4 SDR "
        "and wall time. Results are cached, so an interrupted run resumes.",
    )
    parser.add_argument(
        "root", type=Path, help="dataset folder: <track>/mixture.<ext> + <stem>.<ext>, MUSDB18 or Slakh2100"
    )
    parser.add_argument(
        "--sources", nargs="+", metavar="NAME", help="sources to evaluate (default: every stem name present)"
    )
    parser.add_argument(
        "--methods", default=DEFAULT_METHODS, help="comma-separated method names (default: %(default)s)"
    )
    parser.add_argument(
        "--config", action="append", default=[], metavar="NAME=KEY=VALUE,...",
        help="a named tagbox Separator configuration, e.g. focused=objective=focused,steps=100; repeat for several; "
        f"list values use '{LIST_SEPARATOR}', e.g. fft_sizes=2048:1024:512",
    )
    parser.add_argument("--max-tracks", type=int, metavar="N", help="evaluate only the first N tracks")
    parser.add_argument("--offset", type=float, default=0.0, metavar="S", help="excerpt start in seconds (default: 0)")
    parser.add_argument("--duration", type=float, metavar="S", help="excerpt length in seconds (default: to the end)")
    parser.add_argument(
        "--tagger", metavar="ID[,ID...]",
        help="taggers for the fooling check (target-tag probability of estimate and true stem); default: the "
        "taggers of the tagbox configurations (mtat-musicnn unless set) when a tagbox method runs, otherwise none; "
        "'none' turns the check off",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the summary and every result as JSON")
    parser.add_argument("--force", action="store_true", help="overwrite the --json file if it exists")
    parser.add_argument(
        "--cache-dir", type=Path, help="result cache (default: $TAGBOX_CACHE/eval or the user cache dir)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    parser.add_argument(
        "-d", "--device", default="cpu",
        help="torch device of the fooling check and of tagbox configurations that set none (default: cpu)",
    )
    parser.set_defaults(func=run)


def parse_value(text: str) -> Any:
    """A typed option value: bool, None, int, float, a ':'-separated list of those, else the string."""
    if LIST_SEPARATOR in text:
        return tuple(parse_value(part) for part in text.split(LIST_SEPARATOR))
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_config(text: str) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """``NAME=key=value,key=value`` -> (NAME, sorted options); ``NAME=`` alone means defaults."""
    name, _, body = text.partition("=")
    if not name or not _:
        raise TagboxError(f"--config '{text}': expected NAME=key=value,... (e.g. focused=objective=focused,steps=100)")
    options = {}
    for item in filter(None, body.split(",")):
        key, equals, value = item.partition("=")
        if not key or not equals:
            raise TagboxError(f"--config '{text}': '{item}' is not key=value")
        options[key.strip()] = parse_value(value.strip())
    return name, tuple(sorted(options.items()))


def method_specs(methods: str, configs: list[str]) -> tuple:
    """The methods to run (MethodSpec); ``tagbox`` expands to one method per --config."""
    from tagbox.evaluation.methods import METHODS, MethodSpec

    kinds = [m.strip() for m in methods.split(",") if m.strip()]
    unknown = [k for k in kinds if k not in METHODS]
    if unknown:
        raise UnknownNameError(f"unknown method '{unknown[0]}'; known methods: {', '.join(METHODS)}")
    parsed = [parse_config(c) for c in configs]
    if parsed and "tagbox" not in kinds:
        raise TagboxError("--config configures the tagbox method, but --methods does not include tagbox")
    names = [name for name, _ in parsed]
    if len(set(names)) < len(names):
        raise TagboxError(f"--config names must differ: {', '.join(names)}")
    specs = []
    for kind in dict.fromkeys(kinds):
        if kind == "tagbox" and parsed:
            specs += [MethodSpec(f"tagbox:{name}", kind, options) for name, options in parsed]
        else:
            specs.append(MethodSpec(kind, kind))
    return tuple(specs)


def select_tracks(
    available: dict[str, tuple[str, ...]], sources: list[str] | None, max_tracks: int | None
) -> dict[str, tuple[str, ...]]:
    """Track -> sources to evaluate there; a requested source that no track has is an error."""
    present = sorted({s for names in available.values() for s in names})
    if sources:
        missing = [s for s in sources if s not in present]
        if missing:
            raise TagboxError(f"no track has a stem named '{missing[0]}'; stems found: {', '.join(present)}")
    wanted = set(sources or present)
    selected = {track: tuple(s for s in names if s in wanted) for track, names in available.items()}
    selected = {track: names for track, names in selected.items() if names}
    if max_tracks is not None:
        selected = dict(list(selected.items())[: max(max_tracks, 0)])
    if not selected:
        raise TagboxError("no track to evaluate")
    return selected


def check_taggers(requested: str | None, specs: tuple, default: str) -> tuple[str, ...]:
    """Taggers of the fooling check: as requested, else those the tagbox configurations steer with."""
    if requested:
        return () if requested.lower() == "none" else tuple(t.strip() for t in requested.split(",") if t.strip())
    configured = [dict(spec.options).get("taggers", (default,)) for spec in specs if spec.kind == "tagbox"]
    configured = [(t,) if isinstance(t, str) else tuple(t) for t in configured]
    if len(set(configured)) > 1:
        logger.warning(
            "tagbox configurations steer with different taggers; the fooling check uses %s", ",".join(configured[0])
        )
    return configured[0] if configured else ()


def run(args: argparse.Namespace) -> int:
    from tagbox.evaluation.datasets import detect_layout, track_sources
    from tagbox.evaluation.fooling import DEFAULT_TAGGER
    from tagbox.evaluation.metrics import bss_available
    from tagbox.evaluation.runner import (
        EvalPlan,
        default_cache_dir,
        run_evaluation,
        write_json,
    )
    from tagbox.evaluation.summary import flagged, markdown, summarize

    if args.json and args.json.exists() and not args.force:
        raise TagboxError(f"{args.json} exists; use --force to overwrite it")
    if args.jobs < 1:
        raise TagboxError("-j/--jobs must be at least 1")
    resolve_device(args.device)
    specs = method_specs(args.methods, args.config)
    layout = detect_layout(args.root)
    tracks = select_tracks(track_sources(args.root, layout), args.sources, args.max_tracks)
    taggers = check_taggers(args.tagger, specs, DEFAULT_TAGGER)
    if not bss_available():
        logger.warning("BSSEval v4 SDR skipped: it needs museval (pip install 'tagbox[musdb]'); reporting SI-SDR only")
    plan = EvalPlan(
        root=str(args.root),
        layout=layout,
        methods=specs,
        cache_dir=str(args.cache_dir or default_cache_dir()),
        offset=args.offset,
        duration=args.duration,
        taggers=taggers,
        bss=bss_available(),
        device=args.device,
    )
    report = run_evaluation(plan, tracks, jobs=args.jobs)
    if not report.records:
        raise TagboxError(f"no results: all {len(tracks)} tracks failed (see the messages above)")
    labels = [spec.label for spec in specs]
    rows = summarize(report.records, labels)
    excerpt = f"offset {args.offset:g} s" + (f", duration {args.duration:g} s" if args.duration else "")
    print(f"# tagbox eval: {args.root} ({layout} layout, {len(tracks)} tracks, {excerpt})\n")
    print(markdown(rows, labels, report.records))
    if report.failures:
        print(f"\n{len(report.failures)} failures (tracks or track/source/method skipped); see the warnings above.")
    if args.json:
        write_json(
            args.json,
            {
                "dataset": str(args.root),
                "layout": layout,
                "offset": args.offset,
                "duration": args.duration,
                "methods": [{"label": s.label, **s.key()} for s in specs],
                "taggers": list(plan.taggers),
                "metrics": {
                    "si_sdr": "SI-SDR of the estimate, dB (zero-mean, scale-invariant; Le Roux 2019)",
                    "si_sdri": "SI-SDR of the estimate minus SI-SDR of the mixture, dB",
                    "sdr": "BSSEval v4 SDR (museval, images mode, 1 s frames, median over frames), dB",
                    "seconds": "wall time of the method on the stem, s",
                    "p_estimate": "mean probability of the source's tags for the estimate, over windows and taggers",
                    "p_stem": "the same for the true stem",
                    "fooled": "log-odds of p_estimate >= those of p_stem + 1 while si_sdri < 1 dB",
                },
                "summary": rows,
                "results": report.records,
                "failures": report.failures,
                "flagged_fooling": flagged(report.records),
            },
        )
        logger.info("wrote %s", args.json)
    return 0
