"""Speed of nwot's exact NASWOT scorer against a straightforward baseline, side by side, in one run.

Measured (all on the same 50 seeded NB201 cells, scoring batch = 128 CIFAR-10 images, batch seed 0,
init seed 0, CIFAR-10 head)::

    per cell   nwot      build + score with nwot.evaluators.ScoreEvaluator (what a search pays per cell)
               baseline  benchmarks/naswot_baseline.py: build, hooks copying codes to numpy, float64
                         c cᵀ + (1-c)(1-c)ᵀ per ReLU, slogdet (the paper's released code's way)
               floor     build + one plain forward pass, no hooks (what any scorer must pay)
    search     `nwot search -n 100` in a fresh process: interpreter start, imports, data and table
               loading, 100 cells built and scored, report
    space      score_space("nb201", first N cells): cells / second into a fresh SQLite store
    ray        the same through the Ray backend with 1 and 2 workers (local Ray, start-up excluded)

The machine is shared, so each cell runs baseline, nwot and floor in turn (the order rotating per
repeat), ``--repeats`` times, and medians are reported with the load average at start and end.
BLAS and torch use ``--threads`` threads in every measured path. Results: ``<out>/perf_score_<tag>.csv``
(per cell), ``.json`` (summary, command, git commit, machine) and ``.png``; ``--report`` writes
``<out>/PERFORMANCE.md`` from every saved ``perf_score_*.json``::

    python benchmarks/perf_score.py --threads 1 --tag cpu            # this machine
    python benchmarks/perf_score.py --device cuda --tag h100          # on a GPU machine
    python benchmarks/perf_score.py --report                          # regenerate PERFORMANCE.md only
"""
from __future__ import annotations

import argparse
import os
import sys

if __name__ == "__main__":  # BLAS thread pools are sized at import: set them before numpy / torch load
    _t = next((sys.argv[i + 1] for i, a in enumerate(sys.argv[:-1]) if a == "--threads"), "1")
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _t

import json  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from perf_report import write_report  # noqa: E402

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402


def sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))


def timed(fn, device: str):
    """(wall seconds, process CPU seconds, result) of ``fn()``."""
    sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    sync(device)
    return time.perf_counter() - t0, time.process_time() - c0, out


def floor_time(sp, arch, images, init_seed: int, device: str) -> float:
    """Seconds to build ``arch`` (seeded) and run one plain forward pass (BN batch statistics, no hooks)."""
    import torch

    from nwot.seeding import torch_seed

    def run():
        with torch_seed(init_seed):
            net = sp.build(arch, num_classes=10).to(device)
        net.train()
        with torch.no_grad():
            net(images)

    return timed(run, device)[:2]


def per_cell(args, archs, images) -> list:
    """Median seconds of baseline / nwot / floor per cell, and both scores."""
    from naswot_baseline import baseline_score
    from tqdm import tqdm

    from nwot.evaluators.proxy import ProxyEvaluator
    from nwot.scores.scorer import ScoreConfig
    from nwot.spaces.base import get_space

    sp = get_space("nb201")
    ev = ProxyEvaluator(sp, ScoreConfig(batch_size=args.batch_size, batch_seed=args.batch_seed,
                                        init_seed=args.init_seed, device=args.device), images=images)
    runners = {
        "baseline": lambda a: baseline_score(a, images, args.init_seed, device=args.device),
        "nwot": lambda a: ev.score(a),
        "floor": lambda a: floor_time(sp, a, images, args.init_seed, args.device),
    }
    names = list(runners)
    rows = []
    for index, arch_str in tqdm(archs, desc="cells", unit="cell", disable=args.quiet):
        arch = sp.decode(arch_str)
        times = {k: [] for k in names}
        cpu = {k: [] for k in names}
        scores = {}
        for rep in range(args.repeats):
            for k in names[rep % 3:] + names[:rep % 3]:  # rotate who goes first
                if k == "floor":
                    t, c = runners[k](arch)
                else:
                    t, c, s = timed(lambda: runners[k](arch), args.device)
                times[k].append(t)
                cpu[k].append(c)
                if k != "floor":
                    if scores.setdefault(k, s) != s:
                        raise RuntimeError(f"{k} score of cell {index} changed between repeats: {scores[k]} != {s}")
        b, n = scores["baseline"], scores["nwot"]
        rel = 0.0 if b == n else abs(b - n) / abs(b)
        rows.append({"index": index, "arch": arch_str, "baseline_s": statistics.median(times["baseline"]),
                     "nwot_s": statistics.median(times["nwot"]), "floor_s": statistics.median(times["floor"]),
                     **{f"{k}_cpu_s": statistics.median(cpu[k]) for k in names},
                     "score_nwot": n, "score_baseline": b, "rel_diff": rel})
    return rows


def search_end_to_end(args) -> dict:
    """``nwot search -n N`` in a fresh interpreter; wall time of the whole process and its parts."""
    code = f"""
import json, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import torch
torch.set_num_threads({args.threads})
from nwot.cli.main import main
t1 = time.perf_counter()
rc = main(["search", "-n", "{args.search_n}", "--seed", "0", "--device", "{args.device}", "--quiet", "--json"])
t2 = time.perf_counter()
print("PERF " + json.dumps({{"rc": rc, "import_s": t1 - t0, "search_s": t2 - t1, "cpu_s": time.process_time() - c0,
                            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"search subprocess failed:\n{r.stderr[-3000:]}")
    lines = r.stdout.strip().splitlines()
    perf = json.loads(lines[-1][5:])
    report = json.loads("\n".join(lines[:-1]))
    run = report["runs"][0]
    return {"n": args.search_n, "wall_s": wall, **perf, "scoring_s": run["used_time"], "best_index": run["index"],
            "best_test_accuracy": run["test_accuracy"],
            "includes": "python start, import torch + nwot, embedded CIFAR-10 batch and NB201 table loading, "
                        f"{args.search_n} cells sampled, built and scored, JSON report"}


def _warm_worker(n: int) -> None:
    """Ray warm-up task: import what a scoring task needs, then wait so that ``n`` of them take ``n`` workers."""
    import nwot.scores.job  # noqa: F401
    from nwot.data.datasets import scoring_batch

    scoring_batch("cifar10", batch_size=8, seed=0)
    time.sleep(2.0)


def space_rate(args, n_cells: int, backend: str, workers=None) -> dict:
    """Cells / second of score_space on the first ``n_cells`` NB201 cells into a fresh store."""
    from nwot.scores.scorer import ScoreConfig
    from nwot.scores.job import score_space
    from nwot.scores.scorer import space_archs
    from nwot.scores.store import ScoreStore

    cfg = ScoreConfig(batch_size=args.batch_size, batch_seed=args.batch_seed, init_seed=args.init_seed,
                      device=args.device)
    archs = space_archs("nb201", limit=n_cells)
    kwargs = {}
    if backend == "ray":
        import ray

        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(args.threads)}})
        kwargs = {"num_workers": workers, "cpus_per_task": args.threads}
        warm = ray.remote(_warm_worker).options(num_cpus=1)
        ray.get([warm.remote(workers) for _ in range(workers)])  # worker processes up, torch + nwot imported
    try:
        with tempfile.TemporaryDirectory() as d, ScoreStore(Path(d) / "s.sqlite") as store:
            t0 = time.perf_counter()
            res = score_space("nb201", archs, cfg, store, chunk_size=args.chunk_size, progress=not args.quiet,
                              backend=backend, **kwargs)
            wall = time.perf_counter() - t0
    finally:
        if backend == "ray":
            ray.shutdown()
    return {"backend": backend, "workers": workers, "cells": res.scored, "wall_s": wall,
            "cells_per_s": res.scored / wall}


def profile_breakdown(args, archs, images) -> dict:
    """Seconds per part of nwot's scoring of a few cells: wall-clock wrappers around every leaf module's
    forward, around the NASWOT hook (``_KernelAccumulator.add``) and around the model build."""
    from collections import defaultdict

    import torch.nn as nn

    import nwot.proxies.naswot as score_mod
    from nwot.spaces.nb201.model import Pooling, Zero
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed
    from nwot.spaces.base import get_space

    sp = get_space("nb201")
    totals = defaultdict(float)

    def wrap(fn, label):
        def run(*a, **k):
            sync(args.device)
            t0 = time.perf_counter()
            out = fn(*a, **k)
            sync(args.device)
            totals[label] += time.perf_counter() - t0
            return out
        return run

    families = ((nn.Conv2d, "convolution"), (nn.BatchNorm2d, "batch norm (batch statistics)"), (nn.ReLU, "relu"),
                (Pooling, "avg_pool_3x3 (cells)"), (nn.AvgPool2d, "avg_pool (reduction blocks)"),
                (Zero, "none (zero)"), (nn.Linear, "head"), (nn.AdaptiveAvgPool2d, "head"))
    add = score_mod._KernelAccumulator.add
    score_mod._KernelAccumulator.add = wrap(add, "NASWOT hooks: checks, codes, int8 Gram")
    wall = 0.0
    try:
        for _, a in archs[:args.profile_cells]:
            t0 = time.perf_counter()
            with torch_seed(args.init_seed):
                net = sp.build(sp.decode(a), num_classes=10)
            totals["build (seeded init)"] += time.perf_counter() - t0
            for m in net.modules():
                label = next((lab for cls, lab in families if isinstance(m, cls)), None)
                if label is not None:
                    m.forward = wrap(m.forward, label)
            naswot_score(net, images, device=args.device)
            sync(args.device)
            wall += time.perf_counter() - t0
    finally:
        score_mod._KernelAccumulator.add = add
    parts = dict(totals)
    parts["rest: node sums, module calls, state save/restore, logdet"] = max(wall - sum(totals.values()), 0.0)
    return {"cells": args.profile_cells, "wall_s": wall, "seconds": parts}


def plot(rows, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(14, 4.5))
    w = 0.28
    for k, (key, label) in enumerate((("baseline_s", "baseline (paper-code style)"), ("nwot_s", "nwot"),
                                      ("floor_s", "floor: build + plain forward"))):
        ax.bar(x + (k - 1) * w, [r[key] for r in rows], w, label=label)
    ax.set_xticks(x, [str(r["index"]) for r in rows], rotation=90, fontsize=7)
    ax.set_xlabel("NB201 index")
    ax.set_ylabel("seconds per cell (median)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cells", type=int, default=50, help="NB201 cells timed one by one (default: 50)")
    p.add_argument("--cells-seed", type=int, default=0, help="random.Random seed of the cell choice (default: 0)")
    p.add_argument("--repeats", type=int, default=3, help="timings per cell and scorer (default: 3)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batch-seed", type=int, default=0)
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default: 1)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda / cuda:N")
    p.add_argument("--search-n", type=int, default=100, help="cells of the end-to-end search (default: 100)")
    p.add_argument("--space-cells", type=int, default=100, help="cells for the score_space rate (default: 100)")
    p.add_argument("--ray-cells", type=int, default=48, help="cells per Ray scaling point (0: skip; default: 48)")
    p.add_argument("--ray-workers", default="1,2", help="Ray worker counts to time (default: 1,2)")
    p.add_argument("--chunk-size", type=int, default=8, help="cells per store transaction / Ray task (default: 8)")
    p.add_argument("--profile-cells", type=int, default=5, help="cells under torch.profiler (0: skip; default: 5)")
    p.add_argument("--skip", default="", help="comma list of parts to skip: cells, search, space, ray, profile")
    p.add_argument("--tag", default=None, help="result name suffix (default: the device type)")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="results folder")
    p.add_argument("--report", action="store_true", help="only regenerate PERFORMANCE.md from saved results")
    p.add_argument("--update", action="store_true",
                   help="replace only the parts run (see --skip) in an existing perf_score_<tag>.json")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    if args.report:
        print(f"wrote {write_report(out)}")
        return 0
    import torch

    from nwot.data.datasets import scoring_batch
    from nwot.adapters.embedded import nb201_arch_strings

    torch.set_num_threads(args.threads)
    skip = set(filter(None, args.skip.split(",")))
    tag = args.tag or torch.device(args.device).type
    command = command_line(__file__, argv)
    load_start = os.getloadavg()
    t_start = time.time()
    names = nb201_arch_strings()
    cells = sorted(random.Random(args.cells_seed).sample(range(len(names)), args.cells))
    archs = [(i, names[i]) for i in cells]
    t0 = time.perf_counter()
    images = scoring_batch("cifar10", batch_size=args.batch_size, seed=args.batch_seed).to(args.device)
    batch_load_s = time.perf_counter() - t0
    result = {}
    if args.update and (out / f"perf_score_{tag}.json").exists():
        result = json.loads((out / f"perf_score_{tag}.json").read_text())
        parts = sorted({"cells", "profile", "search", "space", "ray"} - skip)
        result.setdefault("updates", []).append({"command": command, "git": git_state(), "load_avg_start": load_start,
                                                 "parts": parts})
    result = result or {"command": command, "git": git_state(), "machine": machine(args.device, args.threads),
              "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t_start)),
              "load_avg_start": load_start, "config": {k: v for k, v in vars(args).items() if k != "report"},
              "cells": cells, "batch_load_s": batch_load_s}
    out.mkdir(parents=True, exist_ok=True)
    if "cells" not in skip:
        rows = per_cell(args, archs, images)
        import pandas as pd

        df = pd.DataFrame(rows)
        df.to_csv(out / f"perf_score_{tag}.csv", index=False)
        result["per_cell"] = {
            "baseline_median_s": float(df["baseline_s"].median()), "nwot_median_s": float(df["nwot_s"].median()),
            "floor_median_s": float(df["floor_s"].median()),
            "ratio_of_medians": float(df["baseline_s"].median() / df["nwot_s"].median()),
            "median_ratio": float((df["baseline_s"] / df["nwot_s"]).median()),
            "min_ratio": float((df["baseline_s"] / df["nwot_s"]).min()),
            "nwot_over_floor_median": float((df["nwot_s"] / df["floor_s"]).median()),
            "cpu_s_median": {k: float(df[f"{k}_cpu_s"].median()) for k in ("baseline", "nwot", "floor")},
            "cpu_median_ratio": float((df["baseline_cpu_s"] / df["nwot_cpu_s"]).median()),
            "max_rel_score_diff": float(df["rel_diff"].max()),
            "singular_cells": int((df["score_nwot"] == float("-inf")).sum())}
        plot(rows, out / f"perf_score_{tag}.png",
             f"NASWOT seconds per NB201 cell, batch {args.batch_size}, {args.device}, {args.threads} thread(s)")
    if "profile" not in skip and args.profile_cells > 0:
        result["profile"] = profile_breakdown(args, archs, images)
    if "search" not in skip:
        result["search"] = search_end_to_end(args)
    if "space" not in skip:
        result["space"] = space_rate(args, args.space_cells, "serial")
    if "ray" not in skip and args.ray_cells > 0:
        result["ray"] = [space_rate(args, args.ray_cells, "ray", int(w)) for w in args.ray_workers.split(",")]
        result["ray_serial_same_cells"] = space_rate(args, args.ray_cells, "serial")
    if args.update and "updates" in result:
        result["updates"][-1]["load_avg_end"] = os.getloadavg()
    else:
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result["load_avg_end"] = os.getloadavg()
        result["wall_s"] = time.time() - t_start
    (out / f"perf_score_{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result.get(k) for k in ("per_cell", "search", "space", "ray", "peak_rss_mb")}, indent=2))
    print(f"wrote {out / f'perf_score_{tag}.json'}; report: {write_report(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
