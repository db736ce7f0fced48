"""PNAS and BlockQNN against REA and random search on the NAS-Bench-201 table, seeded and resumable.

Protocol (NAS-Bench-201 §5, as :mod:`nwot.search.run`): signal = ``cifar10-valid`` x-valid accuracy after
12 epochs (seed mean), each query charged its simulated 12-epoch seconds; the best-by-signal cell is
reported by its 200-epoch test accuracy on CIFAR-10, CIFAR-100 and ImageNet16-120. Run r uses seed r.
The strategy variants and their options are in :data:`VARIANTS`: PNAS (Liu et al., ECCV 2018) grown one
non-``none`` edge at a time with the paper's LSTM / MLP surrogate sizes (50 Adam epochs per refit: ours),
BlockQNN (Zhong et al., CVPR 2018) with its epsilon schedule shrunk to 14 iterations, REA (P = 10, S = 3).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Tuple

SURROGATE = dict(epochs=50)  # ours: 50 Adam epochs per refit (sizes stay the paper's 100 / 100, 5 members)
VARIANTS: Dict[str, Tuple[str, Dict[str, Any]]] = {
    "random": ("random", {}),
    "rea": ("rea", dict(population_size=10, sample_size=3)),
    "blockqnn": ("blockqnn", dict(batch_size=8, schedule="scaled:14")),
    "pnas-mlp": ("pnas", dict(beam=16, surrogate="mlp", surrogate_kwargs=SURROGATE)),
    "pnas": ("pnas", dict(beam=16, surrogate="lstm", surrogate_kwargs=SURROGATE)),
}
#: Columns of the per-variant summary (mean / std / min / max over runs).
SUMMARY_KEYS = ("test_accuracy/cifar10", "test_accuracy/cifar100", "test_accuracy/ImageNet16-120", "best_signal",
                "n_evals", "used_time", "wall_seconds")


def strategy_kwargs(kwargs: Mapping[str, Any]) -> Dict[str, Any]:
    """Strategy options with ``schedule="scaled:<iterations>"`` resolved to BlockQNN's shrunk epsilon schedule."""
    from nwot.search.blockqnn import scaled_schedule

    out = dict(kwargs)
    if isinstance(out.get("schedule"), str):
        out["schedule"] = scaled_schedule(int(out["schedule"].split(":")[1]))
    return out


def read_progress(path: Path, budget: float) -> Dict[Tuple[str, int], Dict[str, Any]]:
    """Finished runs of the progress file (one JSON line each) made with ``budget``, keyed by (variant, seed)."""
    done = {}
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            rec = json.loads(line)
            if rec["row"]["budget"] == budget:
                done[(rec["row"]["strategy"], rec["row"]["seed"])] = rec
    return done


def run_variant(name: str, seed: int, budget: float) -> Dict[str, Any]:
    """One run of variant ``name``: ``{"row": summary of the run, "trace": every evaluation (columns)}``."""
    from nwot.search.run import NB201_DATASETS, run_strategy

    strategy, kwargs = VARIANTS[name]
    t0 = time.perf_counter()
    (res,) = run_strategy(strategy, space="nb201", dataset="cifar10", budget_seconds=budget, runs=1, seed=seed,
                          report_datasets=NB201_DATASETS, **strategy_kwargs(kwargs))
    row = {"strategy": name, "seed": res.seed, "budget": budget, "best_arch": res.best_arch,
           "best_signal": res.best_signal, "n_evals": res.n_evals, "used_time": res.used_time,
           "wall_seconds": time.perf_counter() - t0,
           **{k: v for k, v in res.final.items() if k.startswith("test_accuracy/")}}
    return {"row": row, "trace": res.to_frame().assign(strategy=name).to_dict(orient="list")}
