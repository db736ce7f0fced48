"""Search replay: run a registered strategy on the benchmark's simulated time and tabulate its trace.

This is the explorer's one call into the search driver (:func:`_run_strategy`). The search sees what
the strategy's evaluator returns (NB201: ``cifar10-valid`` x-valid accuracy after 12 epochs, charged
the table's simulated training seconds; ``naswot``: the stored NASWOT score, charged its stored
scoring seconds; ``area``: both). The replay reports, after every charged evaluation, the best-so-far
cell by signal and its 200-epoch test accuracy on the chosen dataset (:data:`REPORT_COLUMNS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import pandas as pd

from nwot.errors import NwotError
from nwot.explore.data import ARCH, SpaceTable

#: Strategies the replay offers on NB201, and whether each needs a stored score file.
REPLAY_STRATEGIES: Dict[str, bool] = {"random": False, "rea": False, "reinforce": False, "bo": False, "lse": False,
                                      "area": True, "naswot": True}
#: Dataset -> the table column reported for the best-so-far cell (200-epoch test accuracy, seed mean).
REPORT_COLUMNS = {"cifar10": "cifar10/ori-test@200", "cifar100": "cifar100/x-test@200",
                  "ImageNet16-120": "ImageNet16-120/x-test@200"}
#: Spaces with a benchmark covering the whole space (a strategy may propose any cell).
REPLAY_SPACES = ("nb201",)
MAX_BUDGET = 2_000_000.0


@dataclass(frozen=True)
class ReplaySpec:
    """One replay."""

    strategy: str = "rea"  # a key of REPLAY_STRATEGIES
    budget_seconds: float = 12_000.0  # simulated seconds (NB201 protocol: 12,000)
    dataset: str = "cifar10"  # search and report dataset (a key of REPORT_COLUMNS)
    seed: int = 0  # seeds the strategy (run 0 of nwot search --seed)
    scores: Optional[str] = None  # stored score file (index, arch, score, seconds) for area / naswot

    def check(self, table: SpaceTable) -> ReplaySpec:
        if table.name not in REPLAY_SPACES:
            raise NwotError(f"search replay needs a benchmark that covers the whole space; {table.name!r} has "
                            f"none here (replay works on: {', '.join(REPLAY_SPACES)})")
        if self.strategy not in REPLAY_STRATEGIES:
            raise NwotError(f"unknown replay strategy {self.strategy!r}; allowed: {', '.join(REPLAY_STRATEGIES)}")
        if self.dataset not in REPORT_COLUMNS:
            raise NwotError(f"unknown replay dataset {self.dataset!r}; allowed: {', '.join(REPORT_COLUMNS)}")
        try:
            b = float(self.budget_seconds)
        except (TypeError, ValueError):
            raise NwotError(f"budget must be a number of simulated seconds, got {self.budget_seconds!r}") from None
        if not 0 < b <= MAX_BUDGET:
            raise NwotError(f"budget must be in (0, {MAX_BUDGET:,.0f}] simulated seconds, got {self.budget_seconds!r}")
        if REPLAY_STRATEGIES[self.strategy] and not self.scores:
            raise NwotError(f"strategy {self.strategy!r} reads stored NASWOT scores: choose a score file "
                            "(index, arch, score, seconds)")
        return self


def _run_strategy(spec: ReplaySpec):
    """The one call into the search driver (``nwot.search.runner.run_strategy`` today)."""
    from nwot.search.run import run_strategy

    scores = spec.scores if REPLAY_STRATEGIES[spec.strategy] else None
    return run_strategy(spec.strategy, space="nb201", dataset=spec.dataset, budget_seconds=float(spec.budget_seconds),
                        runs=1, seed=int(spec.seed), scores=scores)[0]


def run_replay(table: SpaceTable, spec: ReplaySpec) -> Tuple[pd.DataFrame, dict]:
    """``(trace, summary)``: one row per charged evaluation with columns ``step, index, arch, kind, signal,
    cost, time, best_index, best_signal, accuracy`` (the cell's reported accuracy) and ``best_accuracy``
    (the best-so-far cell's); summary = strategy, budget, evaluations, final best index and accuracy."""
    spec.check(table)
    res = _run_strategy(spec)
    index_of = pd.Series(table.frame.index.to_numpy(), index=table.frame[ARCH].to_numpy())
    report = table.frame[REPORT_COLUMNS[spec.dataset]]
    df = res.to_frame()
    df["index"] = index_of.reindex(df["arch"]).to_numpy()
    df["best_index"] = index_of.reindex(df["best_arch"]).to_numpy()  # NaN before the first evaluation
    if df["index"].isna().any():
        raise NwotError(f"replay produced an arch outside the table: {df['arch'][df['index'].isna()].iloc[0]}")
    df["accuracy"] = report.reindex(df["index"]).to_numpy()
    df["best_accuracy"] = report.reindex(df["best_index"]).to_numpy()
    cols = ["step", "index", "arch", "kind", "signal", "cost", "time", "best_index", "best_signal", "accuracy",
            "best_accuracy"]
    best = res.final.get("index")
    summary = {"strategy": spec.strategy, "budget_seconds": float(spec.budget_seconds), "dataset": spec.dataset,
               "seed": int(spec.seed), "evaluations": int(res.n_evals), "rows": len(df),
               "used_time": float(res.used_time), "best_index": None if best is None else int(best),
               "best_accuracy": None if best is None else float(report.loc[int(best)]),
               "report_column": REPORT_COLUMNS[spec.dataset], "scores": spec.scores}
    return df[cols], summary


def chosen_cells(trace: pd.DataFrame, upto_step: Optional[int] = None) -> Tuple[np.ndarray, Optional[int]]:
    """Distinct cells evaluated up to ``upto_step`` (all if None) and the best-so-far cell there."""
    t = trace if upto_step is None else trace[trace["step"] <= upto_step]
    if t.empty:
        return np.array([], dtype=np.int64), None
    best = t["best_index"].iloc[-1]
    return np.unique(t["index"].to_numpy(dtype=np.int64)), None if pd.isna(best) else int(best)
