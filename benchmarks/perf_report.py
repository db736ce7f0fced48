"""Write ``benchmarks/results/PERFORMANCE.md`` from the saved ``perf_score_*.json`` results.

Called by ``benchmarks/perf_score.py`` after each run and by ``perf_score.py --report``. Every number
comes from the JSON files (schema of ``perf_score.py``: one entry per dispatch level); the prose
around them (what was optimised, the GPU recipe, the Ray recipe) is fixed text.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

TARGET_CELL = 1.25
TARGET_JOB = 1.3


def _load(out: Path) -> List[dict]:
    res = []
    for p in sorted(out.glob("perf_score_*.json")):
        d = json.loads(p.read_text())
        if "levels" not in d:  # an older schema
            continue
        d["_tag"] = p.stem[len("perf_score_"):]
        res.append(d)
    return res


def _ms(s: float) -> str:
    return f"{1e3 * s:.2f} ms"


def _choice(c: dict) -> str:
    timed = ", ".join(f"{m} {_ms(s)}" for m, s in sorted(c["seconds"].items(), key=lambda kv: kv[1]))
    return f"**{c['chosen']}** ({c['source']}{': ' + timed if timed else ''})"


def level_table(r: dict) -> str:
    levels = list(r["levels"])
    lines = ["| | " + " | ".join(f"`{lv}`" for lv in levels) + " |", "|---|" + "---|" * len(levels)]

    def row(label, get):
        vals = []
        for lv in levels:
            try:
                vals.append(get(r["levels"][lv]))
            except (KeyError, TypeError, IndexError, ZeroDivisionError):
                vals.append("–")
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    row("environment", lambda d: " ".join(f"`{k}={v}`" for k, v in d["env"].items()) or "(none)")
    row("torch CPU capability", lambda d: d["machine"]["cpu_capability"])
    row("int8 product path", lambda d: d["calibration"]["cpu"]["int8_product"])
    row("Gram method (timed on 128 × 16,384)", lambda d: _choice(d["calibration"]["choices"]["gram"]))
    row("… screening, 128 × 2,048", lambda d: ", ".join(
        f"{m} {_ms(s)}" for m, s in d["calibration"]["choices"]["gram"]["screen"].items()))
    row("3×3 average pool", lambda d: _choice(d["calibration"]["choices"]["pool"]))
    row("allocator", lambda d: _choice(d["calibration"]["choices"]["allocator"]))
    row("threads / workers (default plan)", lambda d: (lambda p: f"**{p['threads']} / {p['workers']}** ({p['mode']}: "
        + ", ".join(f"{m} {_ms(s)}" for m, s in p["seconds"].items()) + " per step)")(
            d["calibration"]["choices"]["parallel"]))
    row("calibration cost (s, all choices)", lambda d: f"{d['calibration']['calibration_s']:.3f}")
    row("cells × repeats", lambda d: f"{d['per_cell']['cells']} × {r['config']['repeats']}")
    row("load average during the cells", lambda d: f"{d['per_cell']['load_avg_start'][0]:.2f} → "
        f"{d['per_cell']['load_avg_end'][0]:.2f}")
    row("floor (build + plain forward), median s / cell", lambda d: f"{d['per_cell']['floor_median_s']:.3f}")
    row("**nwot**, median s / cell", lambda d: f"**{d['per_cell']['nwot_median_s']:.3f}**")
    row("baseline (paper-code style), median s / cell", lambda d: f"{d['per_cell']['baseline_median_s']:.3f}")
    row(f"**nwot / floor**: median, p90, max (target ≤ {TARGET_CELL})", lambda d: (
        f"**{d['per_cell']['nwot_over_floor_median']:.3f}**, {d['per_cell']['nwot_over_floor_p90']:.3f}, "
        f"{d['per_cell']['nwot_over_floor_max']:.3f}"))
    row(f"cells with nwot / floor ≤ {TARGET_CELL}", lambda d: f"{d['per_cell']['cells_within_target']} of "
        f"{d['per_cell']['cells']}")
    row("speed-up vs baseline: median (min)", lambda d: f"{d['per_cell']['speedup_vs_baseline_median']:.2f}× "
        f"({d['per_cell']['speedup_vs_baseline_min']:.2f}×)")
    row("baseline / floor (median)", lambda d: f"{d['per_cell']['baseline_over_floor_median']:.2f}")
    row("in process CPU time: nwot / floor median (max); speed-up vs baseline", lambda d: (
        f"{d['per_cell']['cpu_nwot_over_floor_median']:.3f} ({d['per_cell']['cpu_nwot_over_floor_max']:.3f}); "
        f"{d['per_cell']['cpu_speedup_vs_baseline_median']:.2f}×"))
    row("max relative score difference nwot vs baseline", lambda d: f"{d['per_cell']['max_rel_score_diff']:.1e}")
    row("**main job** per run, end to end (s)", lambda d: f"**{d['mainjob']['per_run_s']:.1f}** "
        f"({d['mainjob']['wall_s']:.1f} s for {d['mainjob']['runs']} runs)")
    row("… cores used (threads × workers)", lambda d: f"{d['mainjob']['cores_used']} "
        f"({d['mainjob']['plan']['threads']} × {d['mainjob']['plan']['workers']})")
    row("… summed floor of each run's cells (s)", lambda d: " / ".join(
        f"{x:.1f}" for x in d["mainjob"]["floor_sum_s"]))
    row(f"… target {TARGET_JOB} × floor / cores (s per run)", lambda d: f"{d['mainjob']['target_per_run_s']:.1f}")
    row("**… ratio per run / (floor / cores)**", lambda d: f"**{d['mainjob']['ratio']:.3f}**")
    row("… where it goes: outside the runs (start, imports, calibration, report), s", lambda d: (
        f"{d['mainjob']['outside_runs_s']:.1f} ({d['mainjob']['outside_runs_s'] / d['mainjob']['runs']:.2f} per run)"
        if d["mainjob"].get("outside_runs_s") is not None else "(not measured)"))
    row("… the floor run like the job (same plan), s per run; / (floor / cores)", lambda d: (
        " / ".join(f"{x:.1f}" for x in d["mainjob"]["floor_job_s"]) + f"; {d['mainjob']['floor_job_over_bound']:.3f}"
        if "floor_job_s" in d["mainjob"] else "(not measured)"))
    row("… the job's runs / that floor run", lambda d: (
        f"{d['mainjob']['runs_over_floor_job']:.3f}" if d["mainjob"].get("runs_over_floor_job") else "(not measured)"))
    row("… load average during the job", lambda d: f"{d['mainjob']['load_avg_start'][0]:.2f} → "
        f"{d['mainjob']['load_avg_end'][0]:.2f}")
    return "\n".join(lines)


def targets(r: dict) -> str:
    lines = []
    for lv, d in r["levels"].items():
        pc, mj = d.get("per_cell"), d.get("mainjob")
        if pc:
            ok = pc["nwot_over_floor_median"] <= TARGET_CELL
            lines.append(f"- `{lv}`: nwot / floor ≤ {TARGET_CELL} per cell: **{'met' if ok else 'not met'}** "
                         f"(median {pc['nwot_over_floor_median']:.3f}; {pc['cells_within_target']} of {pc['cells']} "
                         f"cells within it, max {pc['nwot_over_floor_max']:.3f}).")
        if mj:
            ok = mj["ratio"] <= TARGET_JOB
            lines.append(f"- `{lv}`: main job ≤ {TARGET_JOB} × floor / cores: **{'met' if ok else 'not met'}** "
                         f"({mj['per_run_s']:.1f} s per run against {mj['target_per_run_s']:.1f} s, ratio "
                         f"{mj['ratio']:.3f}, {mj['cores_used']} core(s), load {mj['load_avg_start'][0]:.1f} → "
                         f"{mj['load_avg_end'][0]:.1f}).")
    lines.append("- GPU: whole NB201 space on a GPU: **pending** (no GPU lent to this session; "
                 "`benchmarks/gpu_check.sh` is ready).")
    return "\n".join(lines)


def knobs_table(r: dict) -> str:
    ks = r.get("knobs")
    if not ks:
        return "(not measured)"
    ops = list(ks[0]["ms"])
    head = ["setting", "capability"] + ops
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for k in ks:
        name = " ".join(f"`{a}={b}`" for a, b in k["env"].items()) or "(none)"
        lines.append(f"| {name} | {k['cpu_capability']} | " + " | ".join(f"{k['ms'][o]:.2f}" for o in ops) + " |")
    return "\n".join(lines)


def profile_table(r: dict) -> str:
    blocks = []
    for lv, d in r["levels"].items():
        pr = d.get("profile")
        if not pr:
            continue
        lines = [f"`{lv}`: nwot building and scoring {pr['cells']} cells, {pr['wall_s']:.2f} s wall:", "",
                 "| part | seconds | share |", "|---|---|---|"]
        for k, v in sorted(pr["seconds"].items(), key=lambda kv: -kv[1]):
            lines.append(f"| {k} | {v:.3f} | {100 * v / pr['wall_s']:.0f} % |")
        lines += ["", "torch.profiler, top operators by self CPU time (same cells):", "",
                  "| operator | self CPU s | calls |", "|---|---|---|"]
        lines += [f"| `{o['op']}` | {o['self_cpu_s']:.3f} | {o['calls']} |" for o in pr["profiler_top_ops"]]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "(no profile saved)"


def header(r: dict) -> str:
    m = r["machine"]
    lv = next(iter(r["levels"].values()), {})
    build = "; ".join(lv.get("calibration", {}).get("torch", {}).get("build", []))
    return "\n".join([
        f"- command: `{r['command']}` (started {r['started']}, {r['wall_s'] / 60:.1f} min)",
        f"- git commit: `{(r['git']['commit'] or '?')[:10]}`" + (" (dirty)" if r["git"]["dirty"] else ""),
        f"- CPU: {m['cpu_model']}, {m['cpu_count']} cores; flags: `{' '.join(m['cpu_flags'])}`",
        f"- torch {m['torch']} ({build}); numpy {m['numpy']}; Python {m['python']}; {m['platform']}",
        f"- per-cell timings: 1 torch / BLAS thread; load average at start → end: "
        f"{r['load_avg_start'][0]:.2f} → {r['load_avg_end'][0]:.2f} (machine shared with other jobs; "
        "compare ratios measured side by side)"])


PROSE_OPTIMISED = """\
What nwot does per cell beyond the plain forward, all exact (`tests/proxies/test_naswot_fast_paths.py`
compares each with the naive kernel on real NB201 cells in both compat modes; `tests/proxies/test_score.py`
and `tests/proxies/test_score_fast.py` with the unoptimised computation):

1. **The Gram product is chosen by timing** (`nwot/machine/calibration.py`, `nwot/proxies/gram.py`):
   `K_H = N_A − R_i − R_j + 2 S`, `S = Σ c cᵀ`, one product per layer. Candidates: int8
   `torch._int_mm` (oneDNN VNNI kernel only where the CPU has AVX-512 VNNI: torch's
   `_int_mm_out_cpu` takes oneDNN only if `userEnabledMkldnn() && is_avx512_vnni_supported()`,
   else a scalar triple loop — so neither `ATEN_CPU_CAPABILITY` nor `ONEDNN_MAX_CPU_ISA` reproduces
   the slow path, and the avx2 level runs it with `NWOT_EMULATE_INT8_WITHOUT_VNNI=1`, oneDNN
   switched off around the call), float32 `torch.mm` over ≤ 2^24-column blocks, float32 through
   numpy's `a @ a.T` (OpenBLAS `ssyrk`: one triangle, half the multiply-adds), float64. Codes of an
   `nn.ReLU` output are `t.bool()` (int8) or `sign(t)` (float: 0/1 in one pass, 5× cheaper than
   `(t > 0).float()`). bf16 / fp16 are not offered (inexact sums beyond 2^8 / 2^11).
2. **One product per distinct activation.** In NB201 a node feeds up to three `ReLUConvBN` edges,
   whose codes are identical; a call on the same unchanged tensor (same object, data pointer, shape,
   strides, version counter) adds the first call's `G` again. Reference mode's `ReLUConvBN`
   containers repeat their inner ReLU's input, so all of them are repeats. ~40 % fewer products.
3. **All-zero layers** (a ReLU fed by a dead node): the maximum already taken for the NaN/inf check
   is 0, so `G = 0` without a product.
4. **No running-statistic writes.** BatchNorm runs with batch statistics but `track_running_stats`
   off during the pass (same bits), so its buffers need neither a copy nor a restore.
5. **`none` edges left out of node sums** (`x · 0` changes at most the sign of a zero; the logits
   and every ReLU output are bit-identical, tested); this speeds up the floor too.
6. Kept from before: shift-and-add `avg_pool_3x3` (now also chosen by timing against ATen), glibc
   `mallopt` tuning (chosen by timing), one `amax` per ReLU for the NaN/inf check read once per cell,
   `Module.to` skipped when the model is already on the device.
7. **The whole machine by default.** `ScoreEvaluator.map` scores a batch of cells in forked worker
   processes (one thread each) when they measured faster than one process on a conv + BN + ReLU +
   Gram step (`nwot info` shows the timings); a busy machine gets one process (a second worker
   cannot help when the other core is taken). Intra-op threads are timed too but only used when asked
   for (`--threads`): in the first full run the step measured 2 threads 1.19× faster, and the main
   job then took 179 s per run instead of ~62 s with one thread. Scores do not depend on it
   (`tests/scores/test_parallel_scoring.py`: 1 worker, 2 workers and 2 threads bit-identical).
   `--threads` / `--workers` (or `NWOT_THREADS` / `NWOT_WORKERS`) override. `OMP_WAIT_POLICY` is
   read when torch starts, so it cannot be timed in-process: `nwot` sets `PASSIVE` unless the user
   set it (2 spinning threads took 16.5 s for 12 cells against 3.3 s passive at load ≈ 2), and
   workers run one thread, so the policy never matters for them.
8. **Measured, not kept:**
   - *channels-last*: 6 cells, 1 thread, CPU time: the plain forward takes 0.66× as long (oneDNN
     convolutions without the NCHW ↔ blocked reorders 3.1× faster, BatchNorm 3.3× faster), but the
     scores move from the NCHW ones by ~1e-8 relative (different rounding of activations near 0), and
     ATen's channels-last BatchNorm sums per-thread partials, so the scores then depend on the
     intra-op thread count (2 threads ≠ 1 thread, measured) — against "a score must not depend on
     threads or workers". It needs a thread-count-independent BatchNorm first; a candidate for the
     lead to decide, since it would also move every saved score at the 1e-8 level.
   - *rank-one terms for units constant over the batch*: outside all-zero layers only 0.03 % of
     the units are constant over a batch of 128 (6 cells), so finding and dropping them would cost
     more than it saves.
"""

PROSE_GPU = """\
No GPU was lent to this session, so the GPU figures are pending. `nwot info` lists CUDA devices
when present; on a GPU machine run (about 5 minutes on one GPU):

```bash
bash benchmarks/gpu_check.sh            # CUDA tests + the whole NB201 space on the GPU, timed
```

It runs the CUDA tests (`tests/proxies/test_score.py::test_cuda_kernel_is_exact`, the TF32 switch test),
checks GPU against CPU scores on 20 cells, then scores all 15,625 NB201 cells into a fresh store with
`nwot score-space --device cuda` and writes `benchmarks/results/gpu_check_<gpu>.json` (device name,
cells/s, wall seconds, nwot info). The CUDA path: float64 products (never TF32), convolutions in
IEEE float32 with deterministic cuDNN algorithms, NaN/inf flags read once per cell, the network
built on the CPU (same seeded init on every device) and copied over.
"""

PROSE_RAY = """\
Full-space scoring can also run on a Ray cluster (`pip install "ray>=2.9"`): the driver keeps
`--workers` chunk tasks in flight and commits each finished chunk to the SQLite store as it arrives,
so a killed job resumes where it stopped; a task whose worker dies is re-run by Ray, one that raises is
resubmitted. One machine: `nwot score-space --backend ray --workers 8 --store nb201.sqlite`; a
cluster: `ray start --head` on one node, `ray start --address=HEAD_IP:6379` on the others, then
`nwot score-space --backend ray --address auto --store nb201.sqlite --chunk-size 32`. Without Ray the
serial backend already uses every core of one machine (worker processes or threads, item 7).
"""


def write_report(out: Path) -> Path:
    out = Path(out)
    parts = ["# Performance",
             "Generated by `benchmarks/perf_score.py` from `benchmarks/results/perf_score_*.json` (command, "
             "git commit, machine with CPU flags, torch build and load averages inside each file). Each level "
             "runs in its own interpreter: `default` = torch's own dispatch on this CPU; `avx2` = AVX2 kernels "
             "in ATen, oneDNN and MKL, with `torch._int_mm` run as on a CPU without AVX-512 VNNI (what an "
             "AVX2-only EPYC gets). Per cell: baseline / nwot / floor interleaved, medians of the repeats. "
             "*floor* = build + one plain forward pass (what any scorer pays); *baseline* = "
             "`benchmarks/naswot_baseline.py`, the paper's released code's way (numpy float64 "
             "`c cᵀ + (1−c)(1−c)ᵀ` per ReLU, ATen pooling, plain node sums)."]
    for r in _load(out):
        parts += [f"## `{r['_tag']}`", header(r), level_table(r), "### Targets", targets(r),
                  "### Which knob changes which kernel (ms, 1 thread, best of 5)", knobs_table(r),
                  "### Where the time goes", profile_table(r)]
        job = next((d["mainjob"] for d in r["levels"].values() if "mainjob" in d), None)
        if job:
            parts += ["### Main job output (`default` level)", "```\n$ " + job["command"] + "\n"
                      + job["stdout"].rstrip() + "\n```"]
    parts += ["## What nwot does", PROSE_OPTIMISED, "## GPU", PROSE_GPU, "## Distributed scoring on Ray", PROSE_RAY]
    path = out / "PERFORMANCE.md"
    path.write_text("\n\n".join(parts) + "\n")
    return path
