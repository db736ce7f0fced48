"""Zero-cost proxy study on NAS-Bench-201 CIFAR-10 (issue #16 part 2): correlations, ensembles, search.

Reads the committed exports (no store needed): ``benchmarks/results/nb201_proxies_seed0.csv.xz`` (+ seed 1,
for seed stability) and the full-space NASWOT export; ``--store`` reads the live store instead. Writes

* ``benchmarks/results/proxies_correlations.{md,json,csv}``: per pool and proxy, signed Kendall tau /
  Spearman rho with bootstrap 95 % intervals, top-k overlap, nDCG@k, -inf / NaN counts and the protocol;
  the proxy-proxy Spearman matrices;
* ``benchmarks/results/proxies_ensembles.{md,json}``: label-free rank aggregations (subset chosen without
  labels), few-shot LightGBM (held-out cells only, seeded draws), best-of-N search replays;
* ``benchmarks/results/proxies_study.png``.

    python benchmarks/proxies_study.py                      # from the committed exports
    python benchmarks/proxies_study.py --store benchmarks/results/work/nb201_proxies.sqlite
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

from _common import CLEAN_EXPORT, RESULTS  # noqa: E402

from nwot.study.provenance import command_line, git_state, machine, utc_date  # noqa: E402

EXPORT0 = RESULTS / "nb201_proxies_seed0.csv.xz"
EXPORT1 = RESULTS / "nb201_proxies_seed1.csv.xz"
#: The NASLib 12 (NASLib's nwot = naswot at batch 32), and the proxies scored on the 3,000-cell sample: the cheap
#: ones (benchmarks/run_proxies_scoring.sh) and AZ-NAS's components (pool ``sample3000``); with VKDNW_agg's vkdnw
#: and jacov, still being scored, on the shorter stored prefix that holds them too (pool ``sample3000+``).
NASLIB = ("epe_nas", "fisher", "fisher@reference", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "naswot@bs32",
          "params", "plain", "snip", "synflow", "naswot")
SAMPLE = ("synflow", "meco", "flops", "params", "l2_norm", "az_nas_complexity", "vkdnw_dim", "swap", "te_nas_lr",
          "naswot", "az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability")
SAMPLE_PLUS = ("vkdnw", "jacov")
RULES = ("mean_rank", "log_rank_product", "vote")


SENSITIVITY = RESULTS / "nb201_cifar10_naswot_sensitivity.csv.xz"


def add_naswot_seed1(data) -> None:
    """NASWOT's seed stability: the full-space export (batch 128, seeds 0/0) against batch seed 1 / init seed 0
    at batch 128 on 500 cells (``nb201_cifar10_naswot_sensitivity.csv.xz``), as column ``naswot`` of seed 1."""
    import pandas as pd

    if not SENSITIVITY.is_file() or data.seed1 is None:
        return
    d = pd.read_csv(SENSITIVITY)
    d = d[(d.batch_seed == 1) & (d.init_seed == 0) & (d.batch_size == 128)].set_index("index")["score"]
    data.seed1 = data.seed1.join(pd.DataFrame({"naswot": d, "naswot__status": "ok"}), how="outer")
    data.sources["naswot_seed1"] = f"{SENSITIVITY.name}: batch seed 1, init seed 0, batch 128 ({len(d)} cells)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=None, help="read this proxy store instead of the committed exports")
    ap.add_argument("--export", default=str(EXPORT0))
    ap.add_argument("--seed1-export", default=str(EXPORT1))
    ap.add_argument("--draws", type=int, default=1000, help="bootstrap resamples (default 1000)")
    ap.add_argument("--fewshot-draws", type=int, default=20)
    ap.add_argument("--runs", type=int, default=500, help="search runs per N (default 500)")
    ap.add_argument("--out", default=None, help="output prefix (default benchmarks/results/proxies)")
    ap.add_argument("--quick", action="store_true",
                    help="small draws/runs for a smoke run (written under /tmp unless --out is given)")
    args = ap.parse_args(argv)
    if args.quick:
        args.draws, args.fewshot_draws, args.runs = 50, 3, 20
    args.out = args.out or ("/tmp/nwot_proxies_quick/proxies" if args.quick else str(RESULTS / "proxies"))

    import torch

    torch.set_num_threads(1)
    from nwot.adapters.embedded import load_nb201_table
    from nwot.study.cells import random_cells
    from nwot.study.proxy_report import run_study
    from nwot.study.proxy_study import load_study_data, naslib_cells_of, study_pools
    from nwot.study.proxy_tables import write_outputs

    t0 = time.time()
    src = args.store or args.export
    data = load_study_data(src, None if args.store else (args.seed1_export if Path(args.seed1_export).is_file()
                                                         else None), CLEAN_EXPORT)
    table = load_nb201_table()
    add_naswot_seed1(data)
    pools = study_pools(data, table, sample_cells=random_cells(3000, seed=0), naslib_cells=naslib_cells_of(data),
                        sample=SAMPLE, naslib=NASLIB, sample_plus=SAMPLE_PLUS)
    res = run_study(pools, data, table, draws=args.draws, fewshot_draws=args.fewshot_draws, runs=args.runs,
                    rules=RULES, log=lambda m: print(f"[{time.time() - t0:6.0f} s] {m}", flush=True))
    res["provenance"] = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(threads=1),
                         "date": utc_date(), "sources": data.sources, "seconds": round(time.time() - t0, 1)}
    for p in write_outputs(res, Path(args.out)):
        print("wrote", p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
