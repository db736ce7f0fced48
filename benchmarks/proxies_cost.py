"""Cost of each zero-cost proxy per NB201 cell on this CPU (1 thread): median wall and CPU seconds.

Each proxy is timed *alone* on a fresh context (the shared passes it needs are charged to it), on
the same ``--cells`` random NB201 cells (``random.Random(--seed)``), with the scoring batch of the job
(CIFAR-10, 128 images, seed 0). CPU seconds (``time.process_time``) are less sensitive than wall
seconds to other processes on a shared machine; both are reported, with the load average. The last
row times all proxies together on one context (what the scoring job pays per cell).

    python benchmarks/proxies_cost.py --cells 8   # -> benchmarks/results/proxies_cost.{json,md}
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "proxies_cost"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--modes", default="clean,reference")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    import nwot
    from nwot.adapters.embedded import nb201_arch_strings
    from nwot.proxies import get_proxy, list_proxies, score_proxies
    from nwot.scores.proxy_store import labelled_batch
    from nwot.spaces.nb201.model import build_nb201
    from nwot.study.cells import random_cells

    torch.set_num_threads(1)
    archs = nb201_arch_strings()
    cells = random_cells(args.cells, seed=args.seed)
    batch = labelled_batch("cifar10", 128, 0)
    load0 = os.getloadavg()
    rows = []
    configs = []
    for name in list_proxies():
        for mode in [m for m in args.modes.split(",") if m]:
            p = get_proxy(name)
            if p.resolve_mode(mode) == mode:
                configs.append((name, mode))
    times = {c: ([], []) for c in configs}
    together = ([], [])
    for c in cells:
        def build(a=archs[c]):
            with nwot.torch_seed(0):
                return build_nb201(a)
        for name, mode in configs:
            w, t = time.perf_counter(), time.process_time()
            score_proxies(build, batch, [name], mode=mode)
            times[(name, mode)][0].append(time.perf_counter() - w)
            times[(name, mode)][1].append(time.process_time() - t)
        w, t = time.perf_counter(), time.process_time()
        for mode in sorted({m for _, m in configs}):
            score_proxies(build, batch, [n for n, m in configs if m == mode], mode=mode)
        together[0].append(time.perf_counter() - w)
        together[1].append(time.process_time() - t)
    for (name, mode), (wall, cpu) in times.items():
        rows.append({"proxy": name, "mode": mode, "config": get_proxy(name).config_id(mode),
                     "median_wall_s": float(np.median(wall)), "median_cpu_s": float(np.median(cpu)),
                     "max_cpu_s": float(np.max(cpu))})
    rows.sort(key=lambda r: -r["median_cpu_s"])
    tot = {"median_wall_s": float(np.median(together[0])), "median_cpu_s": float(np.median(together[1]))}
    prov = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(threads=1),
            "date": datetime.datetime.now().isoformat(timespec="seconds"), "cells": cells,
            "loadavg_start": load0, "loadavg_end": os.getloadavg(),
            "note": "1 torch thread; the machine was shared with other jobs (load average above)"}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(str(out) + ".json").write_text(json.dumps({"rows": rows, "all_together": tot, **prov}, indent=2) + "\n")
    lines = ["# Proxy cost per NB201 cell (CPU, 1 thread)", "",
             f"{len(cells)} random cells (random.Random({args.seed})), CIFAR-10 batch of 128 (each proxy uses its "
             f"paper's part of it), each proxy alone on a fresh context. Load average {load0[0]:.1f} at start, "
             f"{prov['loadavg_end'][0]:.1f} at end on {prov['machine']['cpu_count']} cores (shared machine): "
             "CPU seconds are the steadier figure.", "",
             "| proxy | mode | median CPU s | median wall s | max CPU s |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['proxy']} | {r['mode']} | {r['median_cpu_s']:.3f} | {r['median_wall_s']:.3f} | "
                     f"{r['max_cpu_s']:.3f} |")
    lines.append(f"| **all together, one context per mode** | | {tot['median_cpu_s']:.2f} | "
                 f"{tot['median_wall_s']:.2f} | |")
    from nwot.study.provenance import git_label

    lines += ["", f"Command: `{prov['command']}`; git {git_label()}; CPU {prov['machine']['cpu_model']}."]
    Path(str(out) + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
