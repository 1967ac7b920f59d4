"""``tagbox download``: fetch model weights into the cache, verified, from the mirror or upstream."""

from __future__ import annotations

import argparse
import sys

from tagbox import weights
from tagbox.errors import TagboxError, WeightsError

# How each kind of source is reported; any other source is the URL the file was fetched from.
_ALREADY_THERE = {"cached": "already in the cache", "bundled": "bundled with tagbox"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "download",
        help="fetch model weights into the cache",
        description=f"Fetch weights into the cache (${weights.CACHE_ENV}, default: the user cache dir) and "
        f"check their sha256. With ${weights.MIRROR_ENV} set, a verified copy from that folder is used "
        "before the upstream URLs. See `tagbox list` for the ids.",
    )
    parser.add_argument("ids", nargs="*", metavar="ID", help="model ids to fetch")
    parser.add_argument("--all", action="store_true", help="fetch every registered model")
    parser.add_argument("--force", action="store_true", help="fetch again even if a verified copy is cached")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if bool(args.ids) == args.all:
        raise TagboxError("name the models to download, or pass --all (not both); `tagbox list` shows the ids")
    # Resolve every id first, so a typo fails before anything is fetched.
    models = list(weights.registry()) if args.all else [weights.entry(i).id for i in dict.fromkeys(args.ids)]
    failed = 0
    for model_id in models:
        try:
            path, source = weights.fetch(model_id, force=args.force)
        except WeightsError as error:
            print(f"tagbox: error: {error}", file=sys.stderr)
            failed += 1
            continue
        action = _ALREADY_THERE.get(source, f"fetched from {source} into")
        print(f"{model_id}: {action} {path} (licence: {weights.entry(model_id).license})")
    return 1 if failed else 0
