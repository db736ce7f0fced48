#!/usr/bin/env bash
# GPU check for issue #14 item 6: the CUDA tests, GPU vs CPU scores, and the whole NB201 space timed on a GPU.
#
#   bash benchmarks/gpu_check.sh [LIMIT]      # LIMIT: cells of the space to score (default: all 15,625)
#
# Needs a CUDA build of torch (`python -c "import torch; print(torch.cuda.is_available())"` -> True).
# Writes benchmarks/results/gpu_check_<gpu>.json (device, nwot info, cells/s, wall seconds, exactness
# check) and prints a summary. About 5 minutes on one recent GPU; the store is a temporary file.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
LIMIT=${1:-}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

"$PY" - <<'EOF'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_check: no CUDA device (torch {torch.__version__}, CUDA build {torch.version.cuda}); "
             "install a CUDA build of torch")
print("GPU:", torch.cuda.get_device_name(0))
EOF

echo "== nwot info"
"$PY" -m nwot.cli info

echo "== CUDA tests"
"$PY" -m pytest -q -rs tests/proxies/test_score.py::test_cuda_kernel_is_exact \
    "tests/proxies/test_score_fast.py::test_cuda_scoring_switches_tf32_off_and_restores_the_flags" \
    tests/proxies/test_naswot_fast_paths.py tests/machine/test_machine_calibration.py

echo "== GPU vs CPU scores (20 cells) and the whole space"
"$PY" - "$LIMIT" <<'EOF'
import json, math, os, random, sys, tempfile, time
from pathlib import Path

import torch

from nwot.evaluators.proxy import ScoreConfig, ScoreEvaluator
from nwot.study.machine_info import machine_report
from nwot.scores.job import score_space, space_archs, store_key
from nwot.scores.store import ScoreStore
from nwot.spaces.base import get_space
from nwot.study.provenance import command_line, git_state, machine

limit = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else None
sp = get_space("nb201")
names = space_archs("nb201")
sample = random.Random(0).sample(names, 20)
cpu = ScoreEvaluator(sp, ScoreConfig(device="cpu"), threads=1, workers=1)
gpu = ScoreEvaluator(sp, ScoreConfig(device="cuda"))
diffs = []
for a in sample:
    s_cpu, s_gpu = cpu.score(sp.decode(a)), gpu.score(sp.decode(a))
    diffs.append(0.0 if s_cpu == s_gpu else abs(s_cpu - s_gpu) / max(abs(s_cpu), 1e-300))
archs = space_archs("nb201", limit=limit)
cfg = ScoreConfig(device="cuda")
with tempfile.TemporaryDirectory() as d, ScoreStore(Path(d) / "gpu.sqlite") as store:
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    res = score_space("nb201", archs, cfg, store, chunk_size=64, progress=True)
    torch.cuda.synchronize()
    wall = time.perf_counter() - t0
    df = store.to_frame(store_key("nb201", cfg))
name = torch.cuda.get_device_name(0)
out = {"command": "bash benchmarks/gpu_check.sh" + (f" {limit}" if limit else ""), "git": git_state(),
       "machine": machine("cuda", torch.get_num_threads()), "info": machine_report(calibrate=True),
       "cells": res.scored, "wall_s": wall, "cells_per_s": res.scored / wall,
       "median_cell_s": float(df["seconds"].median()), "singular": int((df["value"] == -math.inf).sum()),
       "gpu_vs_cpu_20_cells": {"max_rel_diff": max(diffs), "identical": sum(x == 0.0 for x in diffs)}}
slug = "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()
path = Path("benchmarks/results") / f"gpu_check_{slug}.json"
path.write_text(json.dumps(out, indent=2) + "\n")
print(f"{name}: {res.scored} cells in {wall:.1f} s ({res.scored / wall:.1f} cells/s, median "
      f"{out['median_cell_s'] * 1e3:.1f} ms per cell); GPU vs CPU on 20 cells: {out['gpu_vs_cpu_20_cells']}")
print(f"wrote {path}")
EOF
