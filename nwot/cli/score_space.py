"""``nwot score-space``: score a whole tabular space into the score store (resumable), optionally export it."""
from __future__ import annotations

import argparse
import sys

from nwot.cli.common import add_scoring_args


def cmd_score_space(args: argparse.Namespace) -> int:
    from nwot.scores.job import ScoringInterrupted, export_scores, score_space
    from nwot.scores.scorer import ScoreConfig, space_archs
    from nwot.scores.store import ScoreStore
    from nwot.study.provenance import machine

    cfg = ScoreConfig(dataset=args.dataset, batch_size=args.batch_size, batch_seed=args.seed,
                      init_seed=args.seed if args.init_seed is None else args.init_seed, compat=args.compat,
                      device=args.device)
    archs = space_archs(args.space, limit=args.limit)
    if args.backend == "ray":
        kwargs = {"address": args.address, "num_workers": args.workers}
    else:
        kwargs = {"threads": args.threads, "workers": args.workers}
    with ScoreStore(args.store) as store:
        try:
            res = score_space(args.space, archs, cfg, store, chunk_size=args.chunk_size, data_dir=args.data_dir,
                              progress=not args.quiet, backend=args.backend, **kwargs)
            print(f"{res.total} cells: {res.skipped} already stored, {res.scored} scored -> {args.store}")
        except ScoringInterrupted as e:
            print(f"nwot: {e} (store: {args.store})", file=sys.stderr)
            if args.export:
                n = export_scores(store, args.space, cfg, args.export, {"command": args.command_line,
                                                                        "machine": machine(), "complete": False})
                print(f"exported the {n} stored rows -> {args.export}", file=sys.stderr)
            return 130
        if args.export:
            n = export_scores(store, args.space, cfg, args.export,
                              {"command": args.command_line, "machine": machine(), "complete": n_all(store, args, cfg)})
            print(f"exported {n} rows -> {args.export}")
    return 0


def n_all(store, args: argparse.Namespace, cfg) -> bool:
    """Whether every cell asked for is stored."""
    from nwot.scores.scorer import space_archs, store_key

    return not store.missing(store_key(args.space, cfg), space_archs(args.space, limit=args.limit))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("score-space", help="score every cell of a tabular space into a score store (resumable)",
                       description="Score all cells of a space (NB201: 15,625) with NASWOT into an SQLite store. "
                                   "Already stored cells are skipped, so an interrupted run resumes where it "
                                   "stopped; Ctrl-C stores what is done. --export writes the score file that "
                                   "`nwot search --scores` reads.")
    p.add_argument("--space", default="nb201", help="tabular space to enumerate (default: nb201)")
    p.add_argument("--store", default="nwot_scores.sqlite", help="SQLite score store (default: nwot_scores.sqlite)")
    p.add_argument("--seed", type=int, default=0, help="seed of the scoring batch (default: 0)")
    p.add_argument("--init-seed", type=int, default=None, help="seed of the network init (default: --seed)")
    p.add_argument("--limit", type=int, default=None, help="only the first LIMIT cells in index order")
    p.add_argument("--chunk-size", type=int, default=16, help="cells per committed transaction (default: 16)")
    p.add_argument("--backend", default="serial", choices=("serial", "ray"), help="serial (default) or ray")
    p.add_argument("--address", default=None, help="ray: cluster address (default: start a local Ray)")
    p.add_argument("--workers", type=int, default=None,
                   help="serial: scoring processes, one thread each; ray: scoring tasks in flight (default: serial "
                        "uses every core as worker processes where they measured faster; see `nwot info`)")
    p.add_argument("--export", default=None,
                   help="write this key's stored scores to a score file (.csv.xz ok; columns index, arch, score, "
                        "seconds; provenance in <file>.json)")
    p.add_argument("--threads", type=int, default=None,
                   help="serial: torch intra-op threads in this process (default: measured, see --workers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_scoring_args(p)
    p.set_defaults(func=cmd_score_space)
