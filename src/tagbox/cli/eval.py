"""``tagbox eval``: a separation benchmark of tagbox configurations against a floor, a ceiling and peers.

Several dataset roots are evaluated in one run (track ids are prefixed with the root's folder
name), every tagbox configuration once per ``--seeds`` value, and ``--baseline`` compares each
method with one configuration on the same (stem, seed) pairs. ``--absent`` also asks the tagbox
configurations for sources a track lacks and reports how often they answer with silence.
The evaluation package (librosa, museval) is imported when the command runs, not when the CLI
builds its parsers."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from tagbox.cli import _threads
from tagbox.device import resolve_device
from tagbox.errors import TagboxError, UnknownNameError
from tagbox.threads import check_threads, default_threads, use_threads

logger = logging.getLogger(__name__)
DEFAULT_METHODS = "tagbox,mixture,silence,oracle,hpss,repet"
LIST_SEPARATOR = ":"
ABSENT_PER_TRACK = 2
# What each method of tagbox.evaluation.methods.METHODS is, for --help (which does not import it).
METHOD_NOTES = {
    "tagbox": "tagbox's separator, once per --config",
    "mixture": "the mixture itself, the floor: SI-SDRi 0",
    "silence": "all zeros, what an absent source should give",
    "oracle": "ideal ratio mask from the true stems, a ceiling for masking methods",
    "nmf-oracle": "the default's NMF components (two runs) grouped by the true stems: the ceiling of its decomposition",
    "hpss": "librosa's harmonic or percussive part, whichever is closer to the true stem",
    "repet": "REPET-SIM foreground or background, whichever is closer to the true stem",
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="benchmark separation on a multitrack dataset",
        description="Separate every stem of every track with each method and report SI-SDR(i), BSSEval v4 "
        "SDR(i) and wall time. Results are cached per (track, source, method, seed), so an interrupted run resumes. "
        "The fooling check asks taggers (--tagger) how probable the target tag is in each estimate and in the true "
        "stem, and flags an estimate they rate far above the true stem (odds at least e times) while its SI-SDRi "
        "stays under 1 dB: a near-mixture that fools the taggers rather than a separation.",
    )
    parser.add_argument(
        "roots", nargs="+", type=Path, metavar="ROOT",
        help="dataset folders: <track>/mixture.<ext> + <stem>.<ext>, MUSDB18 or Slakh2100; track ids are "
        "prefixed with the folder's name",
    )
    parser.add_argument("--sources", nargs="+", metavar="NAME", help="sources to evaluate (default: every stem name present)")
    parser.add_argument(
        "--methods", default=DEFAULT_METHODS,
        help="comma-separated method names (default: %(default)s): "
        + "; ".join(f"{name} ({note})" for name, note in METHOD_NOTES.items())
        + "; hpss and repet peek at the true stem to choose, so they are oracle-aided peers",
    )
    parser.add_argument(
        "--config", action="append", default=[], metavar="NAME=KEY=VALUE,...",
        help="a named tagbox configuration: SeparatorConfig fields and its latent's settings (and preset, device), e.g. "
        "focused=objective=focused,steps=100; repeat for several; "
        f"list values use '{LIST_SEPARATOR}', e.g. fft_sizes=2048:1024:512",
    )
    parser.add_argument(
        "--seeds", type=parse_seeds, default=(0,), metavar="S[,S...]",
        help="run every tagbox configuration once per seed (the Separator's seed; default: 0); other methods "
        "are deterministic and run once",
    )
    parser.add_argument(
        "--baseline", metavar="LABEL",
        help="compare every other method with this one (a method or tagbox:NAME label) on the same (stem, seed) "
        "pairs: mean difference, its standard error, pairs improved",
    )
    parser.add_argument(
        "--absent", type=int, nargs="?", const=ABSENT_PER_TRACK, default=0, metavar="N",
        help="also ask each tagbox configuration, per track, for up to N sources it lacks (default N when given: "
        f"{ABSENT_PER_TRACK}; drawn from --sources or the datasets' stem names that its taggers can name, seeded "
        "by the track id) and report true negatives, false positives and false negatives",
    )
    parser.add_argument(
        "--max-tracks", type=int, metavar="N", help="evaluate only the first N tracks of each dataset folder"
    )
    parser.add_argument("--offset", type=float, default=0.0, metavar="S", help="excerpt start in seconds (default: 0)")
    parser.add_argument("--duration", type=float, metavar="S", help="excerpt length in seconds (default: to the end)")
    parser.add_argument(
        "--tagger", metavar="ID[,ID...]",
        help="taggers for the fooling check (target-tag probability of estimate and true stem); default: the "
        "taggers of the tagbox configurations (mtat-musicnn unless set) when a tagbox method runs, otherwise none; "
        "'none' turns the check off",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the summary and every result as JSON")
    parser.add_argument(
        "--report", type=Path, metavar="DIR",
        help="also write a self-contained HTML page of the run (summary, paired comparison, a section per track) to DIR",
    )
    parser.add_argument("--force", action="store_true", help="overwrite the --json file or --report page if it exists")
    parser.add_argument(
        "--cache-dir", type=Path, help="result cache (default: $TAGBOX_CACHE/eval or the user cache dir)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="worker processes (default: 1)")
    parser.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="one task per track on the Ray cluster at ADDRESS (host:port or ray://host:port), or on a local one "
        "without ADDRESS (put --ray after the roots); datasets and --cache-dir must be shared; needs tagbox[ray]",
    )
    parser.add_argument(
        "-d", "--device", default="cpu",
        help="torch device of the fooling check and of tagbox configurations that set none (default: cpu)",
    )
    _threads.add_argument(parser, per="worker")
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


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0,1,2`` -> (0, 1, 2): distinct integers."""
    try:
        seeds = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of integers") from None
    if not seeds or len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"'{text}': give one or more distinct seeds")
    return seeds


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


def method_specs(methods: str, configs: list[str], seeds: tuple[int, ...] = (0,)) -> tuple:
    """The methods to run (MethodSpec); ``tagbox`` expands to one method per --config, and a
    seeded kind to one per seed (same label)."""
    from tagbox.evaluation.methods import METHODS, SEEDED, MethodSpec

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
    seeded = [name for name, options in parsed if "seed" in dict(options)]
    if seeded:
        raise TagboxError(f"--config {seeded[0]} sets seed: use --seeds, which runs every configuration per seed")
    specs = []
    for kind in dict.fromkeys(kinds):
        named = [(f"tagbox:{name}", options) for name, options in parsed] if kind == "tagbox" and parsed else []
        for label, options in named or [(kind, ())]:
            specs += [MethodSpec(label, kind, options, seed) for seed in seeds] if kind in SEEDED else [
                MethodSpec(label, kind, options)
            ]
    for spec in specs:
        if spec.kind == "tagbox":
            spec.separator_config()  # an unknown key or value fails before any track is read
    return tuple(specs)


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
    from tagbox.evaluation import absent, paired, selection, summary
    from tagbox.evaluation.fooling import DEFAULT_TAGGER
    from tagbox.evaluation.runner import EvalPlan, default_cache_dir, run_evaluation, write_json
    from tagbox.metrics import bss_available

    for path in filter(None, [args.json, args.report and args.report / "index.html"]):
        if path.exists() and not args.force:
            raise TagboxError(f"{path} exists; use --force to overwrite it")
    if args.report:
        from tagbox.batch.plan import check_writable

        check_writable(args.report)
    if args.jobs < 1:
        raise TagboxError("-j/--jobs must be at least 1")
    if args.ray and args.jobs > 1:
        raise TagboxError("-j/--jobs and --ray exclude each other: Ray runs one task per track on its CPUs")
    if args.ray not in (None, "local"):  # an address that does not answer fails before any work
        from tagbox.batch.ray_backend import check_address

        check_address(args.ray)
    resolve_device(args.device)
    check_threads(args.threads)
    if args.absent < 0:
        raise TagboxError("--absent must be at least 0")
    specs = method_specs(args.methods, args.config, args.seeds)
    labels = list(dict.fromkeys(spec.label for spec in specs))
    if args.baseline and args.baseline not in labels:
        raise TagboxError(f"--baseline '{args.baseline}' is not a method of this run; methods: {', '.join(labels)}")
    roots = selection.dataset_roots(args.roots)
    available = selection.available_tracks(roots)
    tracks = selection.select_tracks(available, args.sources, args.max_tracks)
    deciders = [spec for spec in specs if spec.kind == "tagbox"]
    queries = selection.absent_queries(
        tracks, available, args.sources or sorted({s for names in available.values() for s in names}),
        args.absent if deciders else 0, lambda source: all(spec.can_name(source) for spec in deciders),
    )
    taggers = check_taggers(args.tagger, specs, DEFAULT_TAGGER)
    if not bss_available():
        logger.warning("BSSEval v4 SDR skipped: it needs museval (pip install 'tagbox[musdb]'); reporting SI-SDR only")
    plan = EvalPlan(
        roots=roots,
        methods=specs,
        cache_dir=str(args.cache_dir or default_cache_dir()),
        offset=args.offset,
        duration=args.duration,
        taggers=taggers,
        bss=bss_available(),
        device=args.device,
    )
    if args.jobs == 1:
        use_threads(args.threads)
    threads = args.threads or (1 if args.ray else default_threads(args.jobs))
    report = run_evaluation(plan, tracks, jobs=args.jobs, absent=queries, threads=threads, ray=args.ray)
    if not report.records:
        raise TagboxError(f"no results: all {len(tracks)} tracks failed (see the messages above)")
    rows = summary.summarize(report.records, labels)
    comparison = []
    if args.baseline:
        comparison = [
            row for metric in paired.METRICS for row in paired.compare(report.records, args.baseline, labels, metric)
            if row["pairs"] or metric == "si_sdri"
        ]
    verdicts = absent.absent_summary(report.records, labels)
    excerpt = f"offset {args.offset:g} s" + (f", duration {args.duration:g} s" if args.duration else "")
    folders = ", ".join(f"{root.root} ({root.layout})" for root in roots)
    seeds = ",".join(map(str, args.seeds))
    print(f"# tagbox eval: {folders}; {len(tracks)} tracks, {excerpt}, seeds {seeds}\n")
    print("\n\n".join(filter(None, [
        summary.markdown(rows, labels, report.records), paired.markdown(comparison), absent.markdown(verdicts)
    ])))
    if report.failures:
        print(f"\n{len(report.failures)} failures (tracks or track/source/method skipped); see the warnings above.")
    results = {
        "datasets": [{"name": root.name, "root": root.root, "layout": root.layout} for root in roots],
        "offset": args.offset,
        "duration": args.duration,
        "seeds": list(args.seeds),
        "methods": [{"label": s.label, **s.key()} for s in specs],
        "taggers": list(plan.taggers),
        "absent_queries": {track: list(sources) for track, sources in queries.items()},
        "metrics": summary.METRIC_NOTES,
        "summary": rows,
        "paired": comparison,
        "absent": verdicts,
        "results": report.records,
        "failures": report.failures,
        "flagged_fooling": summary.flagged(report.records),
    }
    if args.json:
        write_json(args.json, results)
        logger.info("wrote %s", args.json)
    if args.report:
        from tagbox.report import write_eval_report

        print(f"\nreport {write_eval_report(results, args.report)}")
    return 0

