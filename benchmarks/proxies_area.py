"""AREA pre-screening with a label-free proxy ensemble under the NB201 protocol (issue #16, "Search with the ensemble").

AREA (Mellor et al., ICML 2021, §4.1) scores M random cells training-free, seeds REA with the top 10 and
goes on with REA on the 12-epoch ``cifar10-valid`` signal, charged the benchmark's simulated seconds
(12,000 s) plus the stored scoring seconds, here also capped at 20 benchmark queries. The pre-score is:

* ``ensemble``: the pre-declared label-free ensemble of the full space (``proxies_ensembles.md``: mean
  normalised rank of NASWOT and FLOPs, the subset chosen by seed stability and consensus, no accuracy
  seen), whose scoring seconds are NASWOT's (FLOPs are read off the network, free);
* ``naswot``: NASWOT alone (the paper's AREA);
* REA without pre-scoring at the same budget, for reference.

Reported: CIFAR-10 200-epoch test accuracy of the returned cell, 500 seeded runs each. Writes
``benchmarks/results/proxies_area.{md,json}``.

    python benchmarks/proxies_area.py [--runs 500] [--evaluations 20]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
NASWOT_SCORES = RESULTS / "nb201_cifar10_naswot_clean_seed0.csv.xz"


def ensemble_scores() -> pd.DataFrame:
    """Score file frame of the label-free ensemble: mean rank of NASWOT and FLOPs over all 15,625 cells."""
    import nwot
    from nwot.scores.files import read_scores

    nas = read_scores(NASWOT_SCORES)
    table = nwot.load_nb201_table()
    cols = pd.DataFrame({"naswot": nas["score"], "flops": table["flops"].reindex(nas.index)})
    ens = nwot.rank_ensemble(cols, "mean_rank")
    return pd.DataFrame({"index": nas.index.to_numpy(), "arch": nas["arch"].to_numpy(), "score": ens.to_numpy(),
                         "seconds": nas["seconds"].to_numpy()})


def summarise(report) -> dict:
    accs = [r.final["test_accuracy"] for r in report.runs]
    return {"runs": len(accs), "test_mean": statistics.fmean(accs), "test_std": statistics.pstdev(accs),
            "queries_mean": statistics.fmean(r.n_evals for r in report.runs),
            "charged_s_mean": statistics.fmean(r.used_time for r in report.runs)}


def main(argv=None) -> int:
    from nwot.scores.files import write_scores
    from nwot.search.loop import Budget
    from nwot.search.run import benchmark_setup
    from nwot.study.provenance import command_line, git_state, machine

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--evaluations", type=int, default=20, help="benchmark queries per run (default 20)")
    p.add_argument("--budget", type=float, default=12000.0, help="simulated seconds per run (NB201: 12000)")
    p.add_argument("--candidates", type=int, nargs="+", default=[100, 1000], help="AREA's M")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    budget = Budget(seconds=args.budget, evaluations=args.evaluations)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        ens_path = write_scores(ensemble_scores(), Path(d) / "ensemble.csv.xz", {"score": "mean rank of naswot, flops"})
        for label, scores in (("ensemble", ens_path), ("naswot", NASWOT_SCORES)):
            setup = benchmark_setup("nb201", "cifar10", scores=scores)
            for m in args.candidates:
                rep = setup.run("area", budget, runs=args.runs, seed=0, options={"n_candidates": m})
                rows.append({"method": f"AREA, {label} pre-score", "M": m, **summarise(rep)})
        rep = benchmark_setup("nb201", "cifar10").run("rea", budget, runs=args.runs, seed=0)
        rows.append({"method": "REA (no pre-score)", "M": 0, **summarise(rep)})
    out = Path(args.out)
    prov = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(),
            "budget_seconds": args.budget, "evaluations": args.evaluations}
    (out / "proxies_area.json").write_text(json.dumps({**prov, "rows": rows}, indent=2, default=str))
    lines = ["# AREA with the label-free ensemble (NB201 CIFAR-10)", "",
             f"Command: `{prov['command']}`; commit {prov['git']['commit']}. {args.runs} seeded runs per row; budget "
             f"{args.budget:.0f} simulated s (12-epoch `cifar10-valid` signal) and at most {args.evaluations} "
             f"benchmark queries; pre-scores are charged their stored NASWOT scoring seconds. Goal (issue #16): "
             f"a CIFAR-10 test mean >= 94.3 with at most 20 queries.", "",
             "| method | M | CIFAR-10 test (mean ± std) | queries | charged s |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['method']} | {r['M'] or '-'} | {r['test_mean']:.2f} ± {r['test_std']:.2f} | "
                     f"{r['queries_mean']:.1f} | {r['charged_s_mean']:.0f} |")
    (out / "proxies_area.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
