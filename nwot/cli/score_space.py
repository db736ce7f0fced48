"""``nwot score-space``: score a whole tabular space into the score store (resumable), optionally export it."""
from __future__ import annotations

import argparse
import sys

from nwot.cli.common import add_scoring_args


def cmd_score_proxies_space(args: argparse.Namespace) -> int:
    """``--proxies``: the resumable proxy job (:func:`nwot.scores.proxy_job.score_proxy_cells`) over the space."""
    from nwot.data.datasets import DATASETS
    from nwot.errors import NwotError
    from nwot.proxies import resolve_names
    from nwot.scores.proxy_job import proxy_jobs, score_proxy_cells
    from nwot.scores.proxy_store import column_label, export_wide
    from nwot.scores.scorer import space_archs
    from nwot.scores.store import ScoreStore
    from nwot.seeding import torch_seed
    from nwot.spaces.base import get_space
    from nwot.study.provenance import machine

    names = resolve_names(args.proxies)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if args.dataset not in DATASETS:
        raise NwotError(f"unknown dataset {args.dataset!r}; allowed: {', '.join(map(repr, DATASETS))}")
    n_cls = DATASETS[args.dataset].num_classes
    init_seed = args.seed if args.init_seed is None else args.init_seed
    jobs = proxy_jobs(args.space, args.dataset, names, modes, args.seed, init_seed)
    sp = get_space(args.space)
    cells = list(enumerate(space_archs(args.space, limit=args.limit)))

    def build(a):
        with torch_seed(init_seed):
            return sp.build(sp.decode(a), num_classes=n_cls)

    with ScoreStore(args.store) as store:
        res = score_proxy_cells(store, cells, build, jobs, dataset=args.dataset, batch_seed=args.seed,
                                device=args.device or "cpu", batch_images=args.batch_size, data_dir=args.data_dir,
                                num_classes=n_cls, progress=not args.quiet)
        print(f"{res.cells} cells x {res.configs} proxy configs: {res.cells - res.pending} already complete, "
              f"{res.scored} scored -> {args.store}")
        if args.export:
            keys = {column_label(j.key.score_name): j.key for j in jobs}
            path, rows = export_wide(store, args.space, args.dataset, keys, args.export,
                                     {"command": args.command_line, "machine": machine()},
                                     indices=[c for c, _ in cells])
            print(f"exported {rows} cells x {len(keys)} proxies -> {path}")
    return 0


def cmd_score_space(args: argparse.Namespace) -> int:
    if args.proxies is not None:
        return cmd_score_proxies_space(args)
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
    p.add_argument("--proxies", default=None,
                   help="zero-cost proxies instead of NASWOT: a comma list or 'all' (nwot.proxies), one store key per "
                        "configuration; --export then writes the wide proxy export (index, arch, <proxy>, "
                        "<proxy>__status)")
    p.add_argument("--modes", default="clean",
                   help="with --proxies: clean, reference or clean,reference (default: clean)")
    add_scoring_args(p)
    p.set_defaults(func=cmd_score_space)
