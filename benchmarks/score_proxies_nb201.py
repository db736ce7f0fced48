"""Score NAS-Bench-201 cells with zero-cost proxies into the resumable SQLite store; export the scores.

Each built cell is scored by every requested proxy that is still missing for it, with one shared
:class:`nwot.proxies.context.ScoringContext` (one cross-entropy pass serves snip, grad_norm, plain,
fisher, grasp...), and all of that cell's results are committed in one transaction: a killed job
loses at most the cell in flight, and a re-run skips everything stored. Failures are stored with
their status (nan, singular, no_path, error), never as 0.

    nohup nice -n 15 python benchmarks/score_proxies_nb201.py --cells naslib725 --proxies all &

``--exclude a,b`` leaves proxies out of ``--proxies``. ``--cells``: ``naslib725`` (NASLib's zero-cost
subset, shared data MANIFEST §1.8), ``sample3000``
(3,000 distinct cells drawn by ``random.Random(0).sample(range(15625), 3000)``, ``--sample-seed``),
``all`` (15,625), comma lists allowed. ``--proxies all|a,b,c``; ``--modes clean,reference`` (a proxy
without a reference mode is scored once, clean); ``--batch-sizes naswot=32`` overrides a paper
batch; ``--shard I/N`` takes every N-th cell from the I-th. Network: NB201 ``TinyNetwork`` (C=16,
N=5, 10 classes) built under ``nwot.torch_seed(--init-seed)``; batch: ``nwot.scoring_batch(cifar10,
128, --batch-seed)`` with labels. ``--import EXPORT`` first puts a committed export's values back
into the store (a fresh clone resumes from ``benchmarks/results/nb201_proxies_seed{0,1}.csv.xz``).
``--export PATH`` writes the wide CSV of the stored cells of ``--cells`` for the requested proxies and
modes (``--export-all-configs``: every current config in the store)
(``nwot.scores.proxy_store.export_wide``) with provenance. The scoring loop is
:func:`nwot.scores.proxy_job.score_proxy_cells` (also behind ``nwot score-space --proxies``).
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

DEFAULT_STORE = REPO / "benchmarks" / "results" / "work" / "nb201_proxies.sqlite"
SPACE, DATASET = "nb201", "cifar10"


def cell_indices(spec: str, sample_seed: int = 0) -> list:
    from nwot.errors import NwotError
    from nwot.paths import shared_data_dir
    from nwot.study.cells import random_cells
    from nwot.study.naslib import load_naslib_index_map, load_naslib_zc

    out, seen = [], set()
    for name in [s.strip() for s in spec.split(",") if s.strip()]:
        if name == "all":
            idx = list(range(15_625))
        elif name == "naslib725":
            root = shared_data_dir()
            imap = load_naslib_index_map(root / "nb201" / "derived" / "nb201_index_encodings.csv.xz")
            zc = root / "nb201" / "naslib" / "zc_nasbench201_subset725.json.xz"
            idx = sorted(set().union(*(load_naslib_zc(zc, imap, dataset=d).index
                                       for d in ("cifar10", "cifar100", "ImageNet16-120"))))
        elif name.startswith("sample") and name[6:].isdigit():
            idx = random_cells(int(name[6:]), seed=sample_seed)
        else:
            raise NwotError(f"unknown cell set {name!r}; allowed: naslib725, sample3000 (sampleN), all")
        for i in idx:
            if i not in seen:
                seen.add(i)
                out.append(i)
    return out


def parse_shard(s: str):
    from nwot.errors import NwotError

    try:
        i, n = (int(v) for v in s.split("/"))
    except ValueError:
        raise NwotError(f"--shard must be I/N (e.g. 0/4), got {s!r}") from None
    if not 0 <= i < n:
        raise NwotError(f"--shard I/N needs 0 <= I < N, got {s!r}")
    return i, n


def parse_batch_sizes(s: str) -> dict:
    from nwot.errors import NwotError

    out = {}
    for part in [p for p in s.split(",") if p.strip()]:
        name, _, n = part.partition("=")
        if not n.isdigit():
            raise NwotError(f"--batch-sizes takes name=N pairs, got {part!r}")
        out[name.strip()] = int(n)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", default="naslib725")
    ap.add_argument("--sample-seed", type=int, default=0)
    ap.add_argument("--proxies", default="all")
    ap.add_argument("--exclude", default="", help="comma list of proxies to leave out of --proxies")
    ap.add_argument("--modes", default="clean,reference")
    ap.add_argument("--batch-sizes", default="")
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--batch-seed", type=int, default=0)
    ap.add_argument("--init-seed", type=int, default=0)
    ap.add_argument("--store", default=str(DEFAULT_STORE))
    ap.add_argument("--limit", type=int, default=None, help="only the first N cells of --cells")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--export", default=None)
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--export-all-configs", action="store_true",
                    help="export every current proxy config stored for the seeds, not only --proxies/--modes")
    ap.add_argument("--import", dest="imports", action="append", default=[], metavar="EXPORT",
                    help="first put the values of a committed export (e.g. benchmarks/results/"
                         "nb201_proxies_seed0.csv.xz) into the store, so a fresh store resumes (repeatable)")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    import torch

    import nwot
    from nwot.adapters.embedded import nb201_arch_strings
    from nwot.proxies import resolve_names
    from nwot.scores.proxy_job import proxy_jobs, score_proxy_cells
    from nwot.scores.proxy_store import DEFAULT_BATCH_IMAGES, export_wide
    from nwot.scores.store import ScoreStore
    from nwot.spaces.nb201.model import build_nb201

    torch.set_num_threads(args.threads)
    names = resolve_names(args.proxies)
    drop = set(resolve_names(args.exclude)) if args.exclude else set()
    names = [nm for nm in names if nm not in drop]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    batch_sizes = parse_batch_sizes(args.batch_sizes)
    todo_jobs = proxy_jobs(SPACE, DATASET, names, modes, args.batch_seed, args.init_seed, batch_sizes)
    cells = cell_indices(args.cells, args.sample_seed)
    if args.limit is not None:  # the first N cells of the set: a re-run resumes the same N, never adds more
        cells = cells[:args.limit]
    i, n = parse_shard(args.shard)
    cells = cells[i::n]
    archs = nb201_arch_strings()
    store = ScoreStore(args.store)
    for path in args.imports:
        from nwot.scores.proxy_store import import_wide

        added = import_wide(store, path, SPACE, DATASET)
        print(f"imported {sum(added.values())} values of {len(added)} columns from {path}", flush=True)
    started = time.time()
    scored = 0

    def build(a):
        with nwot.torch_seed(args.init_seed):
            return build_nb201(a, num_classes=10)

    if not args.export_only:
        print(f"{len(cells)} cells, {len(todo_jobs)} proxy configs; store {args.store}", flush=True)
        res = score_proxy_cells(store, [(c, archs[c]) for c in cells], build, todo_jobs, dataset=DATASET,
                                batch_seed=args.batch_seed, batch_sizes=batch_sizes, progress=not args.no_progress)
        print(f"{res.pending} cells had work", flush=True)
        scored = res.scored
    if args.export:
        from nwot.scores.proxy_store import column_label, stored_keys

        if args.export_all_configs:
            keys = stored_keys(store, SPACE, DATASET, args.batch_seed, args.init_seed)
        else:
            keys = {column_label(j.key.score_name): j.key for j in todo_jobs}
        prov = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(threads=args.threads),
                "date": datetime.datetime.now().isoformat(timespec="seconds"), "cells_spec": args.cells,
                "sample_seed": args.sample_seed, "network": "NB201 TinyNetwork C=16 N=5, 10 classes",
                "cell_sets": {nm: cell_indices(nm) for nm in args.cells.split(",") if nm.strip() == "naslib725"},
                "batch": f"nwot.scoring_batch(cifar10, {DEFAULT_BATCH_IMAGES}, seed={args.batch_seed}) + labels"}
        path, rows = export_wide(store, SPACE, DATASET, keys, args.export, prov, indices=cells)
        print(f"exported {rows} cells x {len(keys)} columns to {path}")
    print(f"scored {scored} cells in {time.time() - started:.0f} s")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
