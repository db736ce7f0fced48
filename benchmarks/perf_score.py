"""Speed of nwot's exact NASWOT scorer at each CPU dispatch level, side by side, in one run (issue #14).

One run measures, at torch's **default** dispatch and at the **avx2** level (this script re-running
itself in a fresh interpreter with ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
MKL_ENABLE_INSTRUCTIONS=AVX2 NWOT_EMULATE_INT8_WITHOUT_VNNI=1``, i.e. AVX2 kernels everywhere and
``torch._int_mm`` as torch runs it on a CPU without AVX-512 VNNI)::

    calibration  what nwot.machine.calibration picks at that level, with its timings and cost
    cells        per NB201 cell (seeded sample, batch 128, seeds 0): baseline / nwot / floor interleaved,
                 the order rotating per repeat, medians; target nwot / floor <= 1.25
                   nwot      build + score with ScoreEvaluator (1 thread)
                   baseline  benchmarks/naswot_baseline.py (the paper's released code's way)
                   floor     build + one plain forward pass, no hooks (what any scorer pays)
    mainjob      the README main job `nwot search --space nb201 --dataset cifar10 -n 100 --runs 3` in a
                 fresh process with the plan `nwot info` measured just before (NWOT_THREADS / NWOT_WORKERS),
                 wall seconds per run, against 1.3 x (the summed floor of each run's 100 cells / cores used)
    profile      where nwot's time goes on a few cells (module wrappers + torch.profiler top ops)
    knobs        micro-timings per dispatch knob (benchmarks/dispatch_knobs.py): which knob moves which kernel

Results: ``<out>/perf_score_<tag>.csv`` (per cell and level), ``.json`` (everything, with the command,
git commit, machine: CPU model and flags, threads, torch build, load average at start / end of each
part) and ``.png``; ``<out>/PERFORMANCE.md`` is regenerated from every saved ``perf_score_*.json``::

    nice -n 10 python benchmarks/perf_score.py --tag cpu          # both levels, ~15 min on 2 cores
    python benchmarks/perf_score.py --levels default --skip mainjob,knobs --cells 6   # quick look
    python benchmarks/perf_score.py --report                        # PERFORMANCE.md only
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))  # naswot_baseline, also when imported from elsewhere

from perf_report import write_report  # noqa: E402

from nwot.study.provenance import command_line, git_state  # noqa: E402

#: Environment of each dispatch level (added to the user's environment of the run).
LEVELS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "NWOT_EMULATE_INT8_WITHOUT_VNNI": "1"},
}
#: Knob settings timed by the ``knobs`` part, one fresh interpreter each.
KNOBS = [{}, {"ATEN_CPU_CAPABILITY": "avx2"}, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, {"MKL_ENABLE_INSTRUCTIONS": "AVX2"},
         {"ATEN_CPU_CAPABILITY": "default"}, LEVELS["avx2"]]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MAIN_JOB = ["search", "--space", "nb201", "--dataset", "cifar10", "-n", "100", "--runs", "3"]
TARGET_CELL = 1.25  # nwot / floor per cell
TARGET_JOB = 1.3  # main job per run / (summed floor / cores used)
PARTS = ("calibration", "cells", "mainjob", "profile", "knobs")


def clean_env(extra: dict) -> dict:
    """The user's environment without any dispatch or thread override, plus ``extra``."""
    drop = set(LEVELS["avx2"]) | set(ONE_THREAD) | {"NWOT_GRAM_METHOD", "NWOT_POOL_METHOD", "NWOT_THREADS",
                                                    "NWOT_WORKERS", "NWOT_KEEP_FREED_MEMORY"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def load() -> list:
    return list(os.getloadavg())


# --------------------------------------------------------------------------------------------------
# Child: measurements at one level (torch imported under that level's environment).
# --------------------------------------------------------------------------------------------------


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t0, time.process_time() - c0, out


def floor_run(sp, arch, images, init_seed: int):
    """Build ``arch`` (seeded) and run one plain forward pass (BN batch statistics, no hooks)."""
    import torch

    from nwot.seeding import torch_seed

    with torch_seed(init_seed):
        net = sp.build(arch, num_classes=10)
    net.train()
    with torch.no_grad():
        net(images)


def per_cell(args, archs, images) -> list:
    from naswot_baseline import baseline_score
    from tqdm import tqdm

    from nwot.evaluators.proxy import ProxyEvaluator as ScoreEvaluator
    from nwot.scores.scorer import ScoreConfig
    from nwot.spaces.base import get_space

    sp = get_space("nb201")
    ev = ScoreEvaluator(sp, ScoreConfig(batch_size=args.batch_size, batch_seed=args.batch_seed,
                                        init_seed=args.init_seed, device="cpu"), images=images)
    runners = {"baseline": lambda a: baseline_score(a, images, args.init_seed),
               "nwot": lambda a: ev.score(a),
               "floor": lambda a: floor_run(sp, a, images, args.init_seed)}
    names = list(runners)
    rows = []
    for index, arch_str in tqdm(archs, desc="cells", unit="cell", disable=args.quiet):
        arch = sp.decode(arch_str)
        for k in names:  # warm: the first call of a shape pays oneDNN's kernel generation
            runners[k](arch)
        wall = {k: [] for k in names}
        cpu = {k: [] for k in names}
        scores = {}
        for rep in range(args.repeats):
            for k in names[rep % 3:] + names[:rep % 3]:
                t, c, s = timed(functools.partial(runners[k], arch))
                wall[k].append(t)
                cpu[k].append(c)
                if k != "floor" and scores.setdefault(k, s) != s:
                    raise RuntimeError(f"{k} score of cell {index} changed between repeats: {scores[k]} != {s}")
        b, n = scores["baseline"], scores["nwot"]
        rows.append({"index": index, "arch": arch_str, **{f"{k}_s": statistics.median(wall[k]) for k in names},
                     **{f"{k}_cpu_s": statistics.median(cpu[k]) for k in names},
                     "score_nwot": n, "score_baseline": b, "rel_diff": 0.0 if b == n else abs(b - n) / abs(b)})
    return rows


def cell_summary(rows) -> dict:
    r = [x["nwot_s"] / x["floor_s"] for x in rows]
    sb = [x["baseline_s"] / x["nwot_s"] for x in rows]
    q = statistics.quantiles(r, n=10, method="inclusive") if len(r) > 1 else r * 9
    return {"cells": len(rows), "nwot_median_s": statistics.median(x["nwot_s"] for x in rows),
            "floor_median_s": statistics.median(x["floor_s"] for x in rows),
            "baseline_median_s": statistics.median(x["baseline_s"] for x in rows),
            "nwot_over_floor_median": statistics.median(r), "nwot_over_floor_p90": q[-1],
            "nwot_over_floor_max": max(r), "cells_within_target": sum(v <= TARGET_CELL for v in r),
            "speedup_vs_baseline_median": statistics.median(sb), "speedup_vs_baseline_min": min(sb),
            "baseline_over_floor_median": statistics.median(x["baseline_s"] / x["floor_s"] for x in rows),
            "cpu_nwot_over_floor_median": statistics.median(x["nwot_cpu_s"] / x["floor_cpu_s"] for x in rows),
            "cpu_nwot_over_floor_max": max(x["nwot_cpu_s"] / x["floor_cpu_s"] for x in rows),
            "cpu_speedup_vs_baseline_median": statistics.median(x["baseline_cpu_s"] / x["nwot_cpu_s"] for x in rows),
            "max_rel_score_diff": max(x["rel_diff"] for x in rows),
            "singular_cells": sum(x["score_nwot"] == float("-inf") for x in rows)}


def main_job_args(args) -> list:
    """The README main job, or a smaller one for a quick check (``--job-n`` / ``--job-runs``)."""
    job = list(MAIN_JOB)
    if args.job_n is not None:
        job[job.index("-n") + 1] = str(args.job_n)
    if args.job_runs is not None:
        job[job.index("--runs") + 1] = str(args.job_runs)
    return job


def main_job(args, level_env: dict) -> dict:
    """The README main job in a fresh process, then the floor of each of its runs' 100 cells."""
    import torch

    from nwot.data.datasets import scoring_batch
    from nwot.spaces.base import get_space

    env = clean_env(level_env)
    job = main_job_args(args)
    info = subprocess.run([sys.executable, "-m", "nwot.cli", "info", "--json"], cwd=REPO, env=env,
                          capture_output=True, text=True, check=True)
    plan = json.loads(info.stdout)["choices"]["parallel"]
    # The plan nwot measured a moment ago, passed on so that "cores used" is the job's own (a busy
    # machine can otherwise flip the decision between the two processes).
    env = {**env, "NWOT_THREADS": str(plan["threads"]), "NWOT_WORKERS": str(plan["workers"])}
    cmd = [sys.executable, "-m", "nwot.cli", *job]
    la0 = load()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    la1 = load()
    if r.returncode != 0:
        raise RuntimeError(f"main job failed:\n{r.stderr[-3000:]}")
    runs = int(job[job.index("--runs") + 1])
    n = int(job[job.index("-n") + 1])
    sp = get_space("nb201")
    torch.set_num_threads(1)
    floors, floor_jobs = [], []
    for s in range(runs):  # run s: seed s for the draws, the batch and the init (nwot.api.naswot_search)
        rng = random.Random(s)
        images = scoring_batch("cifar10", batch_size=128, seed=s)
        cells = [sp.sample(rng) for _ in range(n)]
        floor_run(sp, cells[0], images, s)
        floors.append(sum(timed(functools.partial(floor_run, sp, a, images, s))[0] for a in cells))
        floor_jobs.append(floor_job(sp, cells, images, s, plan))
    cores = plan["threads"] * plan["workers"]
    per_run = wall / runs
    bound = statistics.fmean(floors) / cores
    run_walls = [float(x) for x in re.findall(r"\bwall\s+([0-9.]+)s", r.stdout)][:runs]
    return {"command": "nwot " + " ".join(job), "n": n, "runs": runs, "wall_s": wall, "per_run_s": per_run,
            "plan": plan, "cores_used": cores, "floor_sum_s": floors, "floor_sum_per_core_s": bound,
            "target_per_run_s": TARGET_JOB * bound, "ratio": per_run / bound, "stdout": r.stdout,
            "run_wall_s": run_walls, "outside_runs_s": wall - sum(run_walls) if len(run_walls) == runs else None,
            "floor_job_s": floor_jobs, "floor_job_over_bound": statistics.fmean(floor_jobs) / bound,
            "runs_over_floor_job": sum(run_walls) / sum(floor_jobs) if len(run_walls) == runs else None,
            "load_avg_start": la0, "load_avg_end": la1,
            "includes": "python start, imports, calibration, embedded data and table, 3 x 100 cells, report"}


def floor_job(sp, cells, images, seed: int, plan: dict) -> float:
    """Wall seconds of the floor of ``cells`` run the way the main job ran its cells: ``plan``'s worker
    processes (``nwot.machine.pool.imap_ordered``, forked, one thread each) or threads. Against the summed
    floor / cores, this is what the machine's cores deliver in parallel to any scorer."""
    import torch

    from nwot.machine.pool import imap_ordered

    fn = functools.partial(floor_run, sp, images=images, init_seed=seed)
    before = torch.get_num_threads()
    t0 = time.perf_counter()
    if plan["workers"] > 1:
        for _ in imap_ordered(fn, cells, plan["workers"]):
            pass
    else:
        torch.set_num_threads(plan["threads"])
        try:
            for a in cells:
                fn(a)
        finally:
            torch.set_num_threads(before)
    return time.perf_counter() - t0


def profile_breakdown(args, archs, images) -> dict:
    """Wall seconds per part of nwot's scoring of a few cells, and torch.profiler's top operators."""
    from collections import defaultdict

    import torch.nn as nn
    from torch.profiler import ProfilerActivity, profile

    import nwot.proxies.naswot as score_mod
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed
    from nwot.spaces.base import get_space
    from nwot.spaces.nb201.model import Pooling

    sp = get_space("nb201")
    totals = defaultdict(float)

    def wrap(fn, label):
        def run(*a, **k):
            t0 = time.perf_counter()
            out = fn(*a, **k)
            totals[label] += time.perf_counter() - t0
            return out
        return run

    families = ((nn.Conv2d, "convolution"), (nn.BatchNorm2d, "batch norm (batch statistics)"), (nn.ReLU, "relu"),
                (Pooling, "avg_pool_3x3 (cells)"), (nn.AvgPool2d, "avg_pool (reduction blocks)"),
                (nn.Linear, "head"), (nn.AdaptiveAvgPool2d, "head"))
    add = score_mod._KernelAccumulator.add
    score_mod._KernelAccumulator.add = wrap(add, "NASWOT hooks: checks, codes, Gram products")
    wall = 0.0
    cells = [sp.decode(a) for _, a in archs[:args.profile_cells]]
    try:
        for a in cells:
            t0 = time.perf_counter()
            with torch_seed(args.init_seed):
                net = sp.build(a, num_classes=10)
            totals["build (seeded init)"] += time.perf_counter() - t0
            for m in net.modules():
                label = next((lab for cls, lab in families if isinstance(m, cls)), None)
                if label is not None:
                    m.forward = wrap(m.forward, label)
            naswot_score(net, images, device="cpu")
            wall += time.perf_counter() - t0
    finally:
        score_mod._KernelAccumulator.add = add
    parts = dict(totals)
    parts["rest: node sums, module calls, state, logdet"] = max(wall - sum(totals.values()), 0.0)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for a in cells:
            with torch_seed(args.init_seed):
                net = sp.build(a, num_classes=10)
            naswot_score(net, images, device="cpu")
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:12]
    top = [{"op": e.key, "self_cpu_s": e.self_cpu_time_total / 1e6, "calls": e.count} for e in ops]
    return {"cells": len(cells), "wall_s": wall, "seconds": parts, "profiler_top_ops": top}


def child(args) -> int:
    import torch

    torch.set_num_threads(1)
    from nwot.adapters.embedded import nb201_arch_strings
    from nwot.data.datasets import scoring_batch
    from nwot.study.machine_info import machine_report
    from nwot.study.provenance import machine

    level_env = json.loads(args.level_env)
    skip = set(filter(None, args.skip.split(",")))
    out = {"level": args.child, "env": level_env, "machine": machine("cpu", 1), "load_avg_start": load()}
    if "calibration" not in skip:
        t0 = time.perf_counter()
        out["calibration"] = machine_report(calibrate=True)
        out["calibration"]["wall_s"] = time.perf_counter() - t0
    names = nb201_arch_strings()
    cells = sorted(random.Random(args.cells_seed).sample(range(len(names)), args.cells))
    archs = [(i, names[i]) for i in cells]
    images = scoring_batch("cifar10", batch_size=args.batch_size, seed=args.batch_seed)
    if "cells" not in skip:
        la = load()
        out["rows"] = per_cell(args, archs, images)
        out["per_cell"] = {**cell_summary(out["rows"]), "load_avg_start": la, "load_avg_end": load()}
    if "profile" not in skip and args.profile_cells > 0:
        out["profile"] = profile_breakdown(args, archs, images)
    if "mainjob" not in skip:
        out["mainjob"] = main_job(args, level_env)
    out["load_avg_end"] = load()
    Path(args.child_out).write_text(json.dumps(out, indent=2) + "\n")
    return 0


# --------------------------------------------------------------------------------------------------
# Parent: one child per level, then the knobs, the files and the report.
# --------------------------------------------------------------------------------------------------


def knobs() -> list:
    res = []
    for extra in KNOBS:
        r = subprocess.run([sys.executable, str(REPO / "benchmarks" / "dispatch_knobs.py")], cwd=REPO,
                           env=clean_env({**ONE_THREAD, **extra}), capture_output=True, text=True, check=True)
        res.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return res


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [lv for lv in result["levels"] if "rows" in result["levels"][lv]]
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5), gridspec_kw={"width_ratios": [3, 1]})
    ax = axes[0]
    for k, lv in enumerate(levels):
        rows = result["levels"][lv]["rows"]
        xs = [i + 0.4 * k for i in range(len(rows))]
        ax.bar(xs, [r["nwot_s"] / r["floor_s"] for r in rows], 0.4, label=f"nwot / floor, {lv}")
    ax.axhline(TARGET_CELL, color="k", ls="--", lw=1, label=f"target {TARGET_CELL}")
    if levels:
        rows = result["levels"][levels[0]]["rows"]
        ax.set_xticks(range(len(rows)), [str(r["index"]) for r in rows], rotation=90, fontsize=7)
    ax.set_xlabel("NB201 index")
    ax.set_ylabel("nwot / floor (medians)")
    ax.set_ylim(0.8, max(1.6, ax.get_ylim()[1]))
    ax.legend(fontsize=8)
    ax = axes[1]
    jobs = [(lv, result["levels"][lv]["mainjob"]) for lv in result["levels"] if "mainjob" in result["levels"][lv]]
    ax.bar([lv for lv, _ in jobs], [j["per_run_s"] for _, j in jobs], 0.5, label="per run, end to end")
    ax.scatter([lv for lv, _ in jobs], [j["target_per_run_s"] for _, j in jobs], color="k", marker="_", s=900,
               label=f"target {TARGET_JOB} x floor / cores")
    ax.set_ylabel("seconds per run (N = 100)")
    ax.legend(fontsize=8)
    fig.suptitle(f"nwot on {result['machine']['cpu_model']} ({', '.join(levels)} dispatch)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parent(args, argv) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    from nwot.study.provenance import machine

    result = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine("cpu", 1),
              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_start": load(),
              "config": {k: v for k, v in vars(args).items() if k not in ("report", "child", "child_out")},
              "targets": {"nwot_over_floor": TARGET_CELL, "main_job_ratio": TARGET_JOB}, "levels": {}}
    t_start = time.time()
    for level in filter(None, args.levels.split(",")):
        if level not in LEVELS:
            raise SystemExit(f"unknown level {level!r}; allowed: {', '.join(LEVELS)}")
        with tempfile.TemporaryDirectory() as d:
            dest = Path(d) / "level.json"
            cmd = [sys.executable, __file__, "--child", level, "--child-out", str(dest),
                   "--level-env", json.dumps(LEVELS[level]), *argv]
            print(f"[{time.strftime('%H:%M:%S')}] level {level}: load {load()[0]:.2f}", flush=True)
            subprocess.run(cmd, cwd=REPO, env=clean_env({**ONE_THREAD, **LEVELS[level]}), check=True)
            result["levels"][level] = json.loads(dest.read_text())
    if "knobs" not in skip:
        result["knobs"] = knobs()
    result["load_avg_end"] = load()
    result["wall_s"] = time.time() - t_start
    rows = [{"level": lv, **r} for lv, d in result["levels"].items() for r in d.get("rows", [])]
    tag = args.tag
    if rows:
        import pandas as pd

        pd.DataFrame(rows).to_csv(out / f"perf_score_{tag}.csv", index=False)
        plot(result, out / f"perf_score_{tag}.png")
    (out / f"perf_score_{tag}.json").write_text(json.dumps(result, indent=2) + "\n")
    summary = {lv: {k: d.get(k) for k in ("per_cell",)} for lv, d in result["levels"].items()}
    for lv, d in result["levels"].items():
        if "mainjob" in d:
            summary[lv]["mainjob"] = {k: d["mainjob"][k] for k in ("per_run_s", "target_per_run_s", "ratio",
                                                                   "cores_used")}
    print(json.dumps(summary, indent=2))
    print(f"wrote {out / f'perf_score_{tag}.json'}; report: {write_report(out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--levels", default="default,avx2", help="dispatch levels to measure (default: default,avx2)")
    p.add_argument("--cells", type=int, default=24, help="NB201 cells timed one by one (default: 24)")
    p.add_argument("--cells-seed", type=int, default=0, help="random.Random seed of the cell choice (default: 0)")
    p.add_argument("--repeats", type=int, default=2, help="timings per cell and scorer (default: 2)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--batch-seed", type=int, default=0)
    p.add_argument("--init-seed", type=int, default=0)
    p.add_argument("--job-n", type=int, default=None, help="main job: cells per run (default: the README's 100)")
    p.add_argument("--job-runs", type=int, default=None, help="main job: runs (default: the README's 3)")
    p.add_argument("--profile-cells", type=int, default=3, help="cells profiled per level (0: skip; default: 3)")
    p.add_argument("--skip", default="", help=f"comma list of parts to skip: {', '.join(PARTS)}")
    p.add_argument("--tag", default="cpu", help="result name suffix (default: cpu)")
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results"), help="results folder")
    p.add_argument("--report", action="store_true", help="only regenerate PERFORMANCE.md from saved results")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--level-env", default="{}", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.report:
        print(f"wrote {write_report(Path(args.out))}")
        return 0
    if args.child:
        return child(args)
    return parent(args, argv)


if __name__ == "__main__":
    sys.exit(main())
