"""Score NAS-Bench-201 cells with NASWOT into a resumable SQLite store, and export the stored scores.

Every (cell, dataset, batch seed, batch size, init seed, mode) is scored once: cells already in the
store are skipped, so the command can be killed and re-run until the cell set is complete. Each chunk
of cells is committed in its own transaction (``nwot.scores.job.score_space``).

Full space, CIFAR-10, batch 128, seeds 0, clean mode (priority 1 of the reproduction)::

    nice -n 5 python benchmarks/score_nb201.py --cells naslib725,all --threads 1 \\
        --export benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz

``--cells`` is a comma list scored in that order (:func:`nwot.study.cells.cell_indices`): ``all``
(15,625 cells in index order), ``naslib725`` (the 725 cells of NASLib's zero-cost subset, shared data
MANIFEST §1.8) or ``randomN`` (N distinct cells drawn by ``random.Random(--cells-seed)``). ``--export``
writes *every* stored cell of the key as a score file (:mod:`nwot.scores.files`: index, arch, score,
seconds) and a sidecar ``<export>.json`` with the command, git commit, machine, torch version and timing;
an existing export of the same key is first put back into the store (a fresh checkout resumes).
``--export-only`` exports without scoring.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from _common import STORE

from nwot.scores.job import import_scores as restore
from nwot.study.cells import cell_indices, shard
from nwot.study.provenance import command_line
from nwot.study.scores import export_store_key as export

__all__ = ["export", "restore", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", default="all", help="comma list of cell sets: all, naslib725, randomN (default: all)")
    p.add_argument("--cells-seed", type=int, default=0, help="seed of the randomN cell sets (default: 0)")
    p.add_argument("--dataset", default="cifar10", help="images and head size (default: cifar10)")
    p.add_argument("--compat", default="clean", choices=("clean", "reference"), help="scorer mode (default: clean)")
    p.add_argument("--batch-size", type=int, default=128, help="scoring minibatch (default: 128)")
    p.add_argument("--batch-seed", type=int, default=0, help="seed of the minibatch (default: 0)")
    p.add_argument("--init-seed", type=int, default=0, help="seed of the network init (default: 0)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default: 1)")
    p.add_argument("--shard", default=None, metavar="I/N",
                   help="score only every N-th cell of the list, starting at I (run N processes I=0..N-1 side by side)")
    p.add_argument("--chunk-size", type=int, default=16, help="cells per committed transaction (default: 16)")
    p.add_argument("--store", default=str(STORE), help=f"SQLite store (default: {STORE})")
    p.add_argument("--data-dir", default=None, help="dataset folder (default: embedded CIFAR-10 sample)")
    p.add_argument("--shared-data", default=None, help="staged shared data (for naslib725; default: $NWOT_SHARED_DATA)")
    p.add_argument("--export", default=None, help="export the key's stored scores here (CSV; .csv.xz ok) + .json")
    p.add_argument("--export-only", action="store_true", help="only export, score nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from nwot.adapters.embedded import nb201_arch_strings
    from nwot.errors import NwotError
    from nwot.scores.job import score_space
    from nwot.scores.scorer import ScoreConfig, store_key
    from nwot.scores.store import ScoreStore

    torch.set_num_threads(args.threads)
    try:
        cfg = ScoreConfig(dataset=args.dataset, batch_size=args.batch_size, batch_seed=args.batch_seed,
                          init_seed=args.init_seed, compat=args.compat, device="cpu")
        key = store_key("nb201", cfg)
        with ScoreStore(args.store) as store:
            if args.export and not args.export_only:
                added = restore(store, key, Path(args.export))
                if added:
                    print(f"restored {added} cells from the committed export {args.export}", flush=True)
            if not args.export_only:
                names = nb201_arch_strings()
                archs = [names[i] for i in shard(cell_indices(args.cells, args.cells_seed, args.shared_data),
                                                 args.shard)]
                t0 = time.perf_counter()
                res = score_space("nb201", archs, cfg, store, chunk_size=args.chunk_size, data_dir=args.data_dir,
                                  progress=not args.quiet)
                wall = time.perf_counter() - t0
                print(f"{args.cells}: {res.total} cells, {res.skipped} already stored, {res.scored} scored in "
                      f"{wall:.0f} s ({wall / max(res.scored, 1):.3f} s/cell); {store.count(key)} stored under "
                      f"{key}", flush=True)
            if args.export:
                meta = export(store, key, Path(args.export), command_line(__file__, argv), args.threads)
                print(f"exported {meta['cells']} cells ({'complete' if meta['complete'] else 'PARTIAL'}) -> "
                      f"{args.export}", flush=True)
    except NwotError as e:
        print(f"score_nb201: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
