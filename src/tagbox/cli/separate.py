"""``tagbox separate``: demucs-style query-by-tag separation of audio files."""

from __future__ import annotations

import argparse
import importlib
from functools import partial
from pathlib import Path

from tagbox.batch import Input, Job, Manifest, check_writable, expand_inputs, plan_jobs, recorded_groups, run_batch, track_names
from tagbox.batch.tasks import SeparateTask
from tagbox.cli import _threads
from tagbox.cli._taggers import check_expressible, check_taggers, warn_untrained
from tagbox.config import PRESETS, flagged_settings, preset
from tagbox.device import resolve_device
from tagbox.errors import TagboxError
from tagbox.inputs import check_file
from tagbox.latents import LATENTS, takers
from tagbox.report import write_report
from tagbox.sources import canonical_name
from tagbox.threads import use_threads


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting that declares one; unset flags keep the preset's value. A latent's
    setting says which latents take it (the others refuse it)."""
    for setting in flagged_settings():
        options = dict(setting.metadata)
        owners = takers(setting.name)
        if owners:
            options["help"] += f" ({', '.join(owners)} latent{'s' if len(owners) > 1 else ''})"
        parser.add_argument(options.pop("flag"), dest=setting.name, default=None, **options)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "separate",
        help="separate a source named by tags from music files",
        description="Separate each SOURCE from each FILE by steering a latent space with pretrained taggers. "
        "Writes <out>/tagbox/<track>/<source>.wav and no_<source>.wav; several sources are estimated together "
        "(<source>.wav each and rest.wav) unless --separately. The stems keep the input's sample depth. Another "
        "--preset writes to <out>/tagbox-<preset>/, and a --latent or --generator other than the preset's adds "
        "-<model> (<out>/tagbox-mask/): the folder called <folder> below.",
    )
    parser.add_argument("files", nargs="+", metavar="INPUT",
                        help="audio files, folders (searched recursively for audio) or glob patterns")
    parser.add_argument("-s", "--source", action="append", required=True, dest="sources",
                        help="source name or raw tag to separate (repeatable); 'tagbox list sources' shows which "
                        "taggers can name each")
    together = parser.add_mutually_exclusive_group()
    together.add_argument("--joint", action="store_true",
                          help="estimate all sources together, plus 'rest'; stems sum to the mix (the default for "
                          "several sources where the latent can)")
    together.add_argument("--separately", action="store_true",
                          help="estimate several sources one at a time, each with its own no_<source>")
    parser.add_argument("-o", "--out", type=Path, default=Path("separated"),
                        help="output folder (default: separated); the stems go to its sub-folder tagbox/ by default")
    parser.add_argument("--filename", default="{track}/{stem}.{ext}",
                        help="output name under <out>/<folder>/; fields {track} (the input's name without extension, "
                        "or its folder's name where inputs of one name would share a folder, as <song>/mixture.flac "
                        "do), {stem}, {source}, {ext}, {suffix} (the input's extension) and {folder} (its sub-folder "
                        "below a folder input); default %(default)s")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default",
                        help="'faithful' reproduces the reference TagBox settings")
    add_config_flags(parser)
    parser.add_argument("--flac", action="store_true", help="write FLAC instead of WAV")
    depth = parser.add_mutually_exclusive_group()
    depth.add_argument("--int16", dest="encoding", action="store_const", const="int16",
                       help="write 16-bit integer samples (default: the input's depth; 24-bit FLAC for a float input)")
    depth.add_argument("--int24", dest="encoding", action="store_const", const="int24",
                       help="write 24-bit integer samples")
    depth.add_argument("--float32", dest="encoding", action="store_const", const="float32",
                       help="write 32-bit float WAV, which can hold samples beyond full scale (not with --flac)")
    parser.add_argument("--clip-mode", choices=["rescale", "clamp", "none"], default="rescale",
                        help="what happens to a stem's samples beyond full scale (±1): 'rescale' divides the whole "
                        "stem by its peak (default), 'clamp' clips them, 'none' keeps them (--float32 only)")
    parser.add_argument("-d", "--device", default="cpu", help="torch device: cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--force", action="store_true",
                        help="redo inputs whose outputs exist (by default they are skipped: a batch resumes); an "
                        "earlier group of stems that a new one overlaps is replaced whole")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="worker processes on this machine, sharing its threads (default 1)")
    parser.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                        help="run one task per file on a Ray cluster at ADDRESS (host:port or ray://host:port), "
                        "or on a local one without ADDRESS (put --ray after the inputs); needs tagbox[ray]")
    parser.add_argument("--manifest", type=Path, help="manifest path (default <out>/<folder>/manifest.json)")
    parser.add_argument("--report", action="store_true", help="write an HTML report to <out>/<folder>/report/")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no per-file lines")
    _threads.add_argument(parser)
    parser.set_defaults(func=run, encoding=None)


def separator_options(args: argparse.Namespace) -> dict:
    """Separator keyword arguments: the settings the user set (others keep the preset's), and the device."""
    settings = {f.name: getattr(args, f.name) for f in flagged_settings()}
    return {"device": args.device, **{name: value for name, value in settings.items() if value is not None}}


def estimated_jointly(args: argparse.Namespace) -> bool:
    """Several sources are estimated together where the latent can (each takes what the others
    leave; docs/decisions.md), unless ``--separately``; ``--joint`` asks for it (and a latent
    that cannot is then an error)."""
    if args.joint or args.separately or len(args.sources) < 2:
        return args.joint
    settings = {key: value for key, value in separator_options(args).items() if key != "device"}
    return LATENTS[preset(args.preset).replace(**settings).latent].joint


def folder_name(preset_name: str, model: str) -> str:
    """The folder under ``-o``: ``tagbox`` for the default preset, ``tagbox-<preset>`` for another, with
    ``-<model>`` where the separator's model (its latent, or the generator it decodes) is not the preset's."""
    base = "tagbox" if preset_name == "default" else f"tagbox-{preset_name}"
    config = preset(preset_name)
    own = LATENTS[config.latent].model_name(config.latent_options) or config.latent
    return base if model == own else f"{base}-{model}"


def output_groups(args: argparse.Namespace, folder: str, groups: list[list[str]], item: Input,
                  track: str) -> list[dict[str, Path]]:
    """Where each stem of ``item`` goes, filed under ``track``: ``--filename`` under ``<out>/<folder>/``."""
    ext = "flac" if args.flac else "wav"
    fields = dict(track=track, suffix=item.path.suffix.lstrip("."), folder=item.folder, ext=ext)
    return [
        {stem: args.out / folder / args.filename.format(stem=stem, source=stem, **fields).lstrip("/") for stem in group}
        for group in groups
    ]


def print_result(job: Job, result: dict, write) -> None:
    """The per-file lines: how probable the taggers find each source in the mixture and in its
    estimate (which taggers: ``tagbox tag`` may ask others), the time and the files."""
    name = job.input.name
    for source, info in result.get("sources", {}).items():
        note = "; counted as absent: its stem is silence" if info["absent"] else ""
        before, after = (f"{p:.2f}" if p is not None else "n/a" for p in (info["probability_before"], info["probability_after"]))
        presence = info.get("presence") or []
        silent = len(presence) - info.get("plays_in", len(presence))
        plays = (f"; plays with p {min(presence):.2f}{'' if len(presence) == 1 else f'-{max(presence):.2f}'}"
                 + (f", silenced in {silent} of {len(presence)} segment{'s' if len(presence) > 1 else ''}" if silent else "")
                 if presence else "")
        write(f"{name}: taggers hear {source}: {before} in the mixture, {after} in the estimate "
              f"({', '.join(info['taggers'])}){plays}{note}")
    if result["status"] == "done":
        written = ", ".join(str(path) for group in job.todo for path in group.values())
        write(f"{name}: {result['seconds']:.1f} s; wrote {written}")


def run(args: argparse.Namespace) -> int:
    use_threads(args.threads)
    if len(set(args.sources)) != len(args.sources):
        raise TagboxError("a source was requested twice")
    clash = set(args.sources) & set(args.exclude or [])
    if clash:
        raise TagboxError(f"'{sorted(clash)[0]}' is both a --source and a --not")
    for name in [*args.sources, *(args.exclude or [])]:
        canonical_name(name)  # an unknown name fails before any weights are loaded
    check_taggers(args.taggers or ())
    check_expressible(args.sources, args.taggers or preset(args.preset).steering.taggers)
    if args.jobs < 1:
        raise TagboxError(f"-j must be at least 1, got {args.jobs}")
    resolve_device(args.device)  # the cheapest check first: before reading any file
    if args.ray not in (None, "local"):  # an address that does not answer fails before any work
        importlib.import_module("tagbox.batch.ray_backend").check_address(args.ray)
    inputs = expand_inputs(args.files)
    # A file named on the command line is checked before any model loads (silent, non-finite, too
    # short); one found in a folder or by a pattern fails alone, in the manifest, when its turn comes.
    for item in inputs:
        if item.named:
            check_file(item.path)
    warn_untrained(args.taggers or ())
    task = SeparateTask(args.preset, separator_options(args), tuple(args.sources), estimated_jointly(args),
                        args.encoding, args.clip_mode, args.force)
    folder = folder_name(args.preset, task.separator().name)
    root = args.out / folder
    manifest_path = args.manifest or root / "manifest.json"
    recorded = recorded_groups(manifest_path)  # what earlier batches wrote here, and for which input
    outputs = partial(output_groups, args, folder, task.groups())
    tracks = track_names(inputs, lambda item, track: [p for group in outputs(item, track) for p in group.values()],
                         recorded)
    jobs = plan_jobs(inputs, lambda item: outputs(item, tracks[item.path]), force=args.force, recorded=recorded)
    check_writable(root)
    backend, options = ("ray", {"address": args.ray}) if args.ray else (
        ("processes", {"workers": args.jobs}) if args.jobs > 1 else ("serial", {}))
    settings = {**task.settings(), "backend": backend, "jobs": args.jobs}
    manifest = Manifest(manifest_path, "separate", settings, jobs)
    manifest.write()
    summary = run_batch(jobs, task, backend=backend, manifest=manifest, progress=not args.quiet,
                        on_result=None if args.quiet else print_result, **options)
    if not args.quiet:
        print(f"{summary.line()}; manifest {manifest.path}")
    if args.report:
        page = write_report(manifest.path, root / "report")
        if not args.quiet:
            print(f"report {page}")
    return 1 if summary.failed else 0
