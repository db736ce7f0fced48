"""``nwot score-space``: score a whole tabular space into the score store (resumable)."""
from __future__ import annotations

import argparse


def cmd_score_space(args) -> int:
    from nwot.evaluators.proxy import ScoreConfig
    from nwot.scores.job import score_space, space_archs, store_key
    from nwot.scores.store import ScoreStore

    cfg = ScoreConfig(dataset=args.dataset, batch_size=args.batch_size, batch_seed=args.seed,
                      init_seed=args.seed if args.init_seed is None else args.init_seed, compat=args.compat,
                      device=args.device)
    archs = space_archs(args.space, limit=args.limit)
    if args.backend == "ray":
        kwargs = {"address": args.address, "num_workers": args.workers}
    else:
        kwargs = {"threads": args.threads, "workers": args.workers}
    with ScoreStore(args.store) as store:
        res = score_space(args.space, archs, cfg, store, chunk_size=args.chunk_size, data_dir=args.data_dir,
                          progress=not args.quiet, backend=args.backend, **kwargs)
        print(f"{res.total} cells: {res.skipped} already stored, {res.scored} scored -> {args.store}")
        if args.export:
            df = store.to_frame(store_key(args.space, cfg))
            df.to_csv(args.export, index=False)
            print(f"exported {len(df)} rows -> {args.export}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from nwot.cli.main import _add_scoring_args

    p = sub.add_parser("score-space", help="score every cell of a tabular space into a score store (resumable)",
                       description="Score all cells of a space (NB201: 15,625) with NASWOT into an SQLite store. "
                                   "Already stored cells are skipped, so an interrupted run resumes where it "
                                   "stopped.")
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
    p.add_argument("--export", default=None, help="write the stored scores of this key to a CSV (.csv.xz ok)")
    p.add_argument("--threads", type=int, default=None,
                   help="serial: torch intra-op threads in this process (default: measured, see --workers)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_scoring_args(p)
    p.set_defaults(func=cmd_score_space)
