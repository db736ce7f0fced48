"""Score NAS-Bench-201 cells with NASWOT into a resumable SQLite store, and export the stored scores.

Every (cell, dataset, batch seed, batch size, init seed, mode) is scored once: cells already in the
store are skipped, so the command can be killed and re-run until the cell set is complete. Each chunk
of cells is committed in its own transaction (``nwot.scores.job.score_space``).

Full space, CIFAR-10, batch 128, seeds 0, clean mode (priority 1 of the reproduction)::

    nice -n 5 python benchmarks/score_nb201.py --cells naslib725,all --threads 1 \\
        --export benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz

``--cells`` is a comma list scored in that order: ``all`` (15,625 cells in index order),
``naslib725`` (the 725 cells of NASLib's zero-cost subset, shared data MANIFEST §1.8) or ``randomN``
(N distinct cells drawn by ``random.Random(--cells-seed)``). ``--export`` writes *every* stored cell
of the key (index, arch, score, seconds) and a sidecar ``<export>.json`` with the command, git
commit, machine, torch version and timing. ``--export-only`` exports without scoring.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

DEFAULT_STORE = REPO / "benchmarks" / "results" / "work" / "nb201_scores.sqlite"


def cell_indices(spec: str, cells_seed: int = 0, shared_data=None) -> list:
    """NB201 indices of a comma list of cell sets (see module docstring), without duplicates, in order."""
    from nwot.errors import NwotError
    from nwot.paths import shared_data_dir
    from nwot.study.reproduction import load_naslib_index_map, load_naslib_zc, random_cells

    out, seen = [], set()
    for name in spec.split(","):
        name = name.strip()
        if name == "all":
            idx = list(range(15_625))
        elif name == "naslib725":
            root = shared_data_dir(shared_data)
            imap = load_naslib_index_map(root / "nb201" / "derived" / "nb201_index_encodings.csv.xz")
            zc = root / "nb201" / "naslib" / "zc_nasbench201_subset725.json.xz"
            idx = sorted(set().union(*(load_naslib_zc(zc, imap, dataset=d).index for d in
                                       ("cifar10", "cifar100", "ImageNet16-120"))))
        elif name.startswith("random") and name[6:].isdigit():
            idx = random_cells(int(name[6:]), seed=cells_seed)
        else:
            raise NwotError(f"unknown cell set {name!r}; allowed: all, naslib725, randomN (e.g. random500)")
        for i in idx:
            if i not in seen:
                seen.add(i)
                out.append(i)
    return out


def shard(indices: list, spec) -> list:
    """The ``I/N`` shard of a cell list: positions ``I, I+N, I+2N, ...`` (``None``: the whole list)."""
    from nwot.errors import NwotError

    if spec is None:
        return list(indices)
    try:
        i, n = (int(x) for x in str(spec).split("/"))
    except ValueError:
        raise NwotError(f"--shard must be I/N with integers 0 <= I < N, got {spec!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise NwotError(f"--shard must be I/N with integers 0 <= I < N, got {spec!r}")
    return list(indices)[i::n]


def export(store, key, path: Path, command: str, threads: int) -> dict:
    """Write the key's stored scores to ``path`` (CSV, xz if it ends .xz) and the sidecar JSON."""
    import torch

    df = store.to_frame(key)
    out = df.rename(columns={"arch_index": "index", "value": "score"})[["index", "arch", "score", "seconds"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False)
    sec = out["seconds"]
    meta = {
        "command": command,
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "key": {"space": key.space, "dataset": key.dataset, "batch_seed": key.batch_seed,
                "batch_size": key.batch_size, "init_seed": key.init_seed, "score_name": key.score_name},
        "cells": int(len(out)),
        "complete": bool(len(out) == 15_625),
        "singular": int((out["score"] == float("-inf")).sum()),
        "git": git_state(),
        "machine": machine(),
        "torch": torch.__version__,
        "torch_threads": threads,
        "devices": sorted(df["device"].dropna().unique().tolist()),
        "timing": {"seconds_per_score_mean": float(sec.mean()) if len(sec) else None,
                   "seconds_per_score_median": float(sec.median()) if len(sec) else None,
                   "seconds_total": float(sec.sum()),
                   "wall_span_seconds": float(df["created"].max() - df["created"].min()) if len(df) else None,
                   "note": "seconds = wall time to build + score one cell (shared 2-core machine, nice 5)"},
    }
    Path(str(path) + ".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def restore(store, key, path: Path) -> int:
    """Put the rows of a committed export back into a (fresh) store, so a new checkout resumes the job
    instead of starting over (the SQLite store itself is git-ignored). Only an export whose sidecar
    key equals ``key`` is used; rows already stored are kept. Returns the rows added."""
    import pandas as pd

    from nwot.scores.store import ScoreRow

    side = Path(str(path) + ".json")
    if not path.is_file() or not side.is_file():
        return 0
    meta = json.loads(side.read_text())
    if meta.get("key") != {f: getattr(key, f) for f in meta.get("key", {})} or len(meta["key"]) != 6:
        return 0
    df = pd.read_csv(path)
    device = (meta.get("devices") or [None])[0]
    rows = [ScoreRow(a, float(v), float(t), int(i), device)
            for i, a, v, t in zip(df["index"], df["arch"], df["score"], df["seconds"])]
    return store.put(key, rows)


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
    p.add_argument("--store", default=str(DEFAULT_STORE), help=f"SQLite store (default: {DEFAULT_STORE})")
    p.add_argument("--data-dir", default=None, help="dataset folder (default: embedded CIFAR-10 sample)")
    p.add_argument("--shared-data", default=None, help="staged shared data (for naslib725; default: $NWOT_SHARED_DATA)")
    p.add_argument("--export", default=None, help="export the key's stored scores here (CSV; .csv.xz ok) + .json")
    p.add_argument("--export-only", action="store_true", help="only export, score nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from nwot.errors import NwotError
    from nwot.scores.scorer import ScoreConfig
    from nwot.scores.job import score_space
    from nwot.scores.scorer import store_key
    from nwot.scores.store import ScoreStore
    from nwot.adapters.embedded import nb201_arch_strings

    torch.set_num_threads(args.threads)
    command = command_line(__file__, argv)
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
                idx = shard(cell_indices(args.cells, args.cells_seed, args.shared_data), args.shard)
                archs = [names[i] for i in idx]
                t0 = time.perf_counter()
                res = score_space("nb201", archs, cfg, store, chunk_size=args.chunk_size, data_dir=args.data_dir,
                                  progress=not args.quiet)
                wall = time.perf_counter() - t0
                print(f"{args.cells}: {res.total} cells, {res.skipped} already stored, {res.scored} scored in "
                      f"{wall:.0f} s ({wall / max(res.scored, 1):.3f} s/cell); {store.count(key)} stored under "
                      f"{key}", flush=True)
            if args.export:
                meta = export(store, key, Path(args.export), command, args.threads)
                print(f"exported {meta['cells']} cells ({'complete' if meta['complete'] else 'PARTIAL'}) -> "
                      f"{args.export}", flush=True)
    except NwotError as e:
        print(f"score_nb201: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
