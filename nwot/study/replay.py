"""Searches replayed from stored numbers: NASWOT search from stored scores (paper Table 2), and the
best-so-far accuracy curves of recorded search traces on a simulated-time grid.

Mellor et al., ICML 2021, arXiv:2006.04647, §4 / Table 2 (NASWOT search with N sampled cells). Pure
functions of arrays and run records; randomness only through a passed :class:`random.Random`.
"""
from __future__ import annotations

import math
import random
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Sequence, Tuple

import numpy as np

from nwot.errors import NwotError
from nwot.study.correlation import _pair


@dataclass(frozen=True)
class SearchRow:
    n: int  # cells sampled per run
    runs: int
    naswot_mean: float  # test accuracy of the highest-scoring sampled cell
    naswot_std: float  # population std over runs (numpy's default, as the paper's scripts)
    oracle_mean: float  # best test accuracy among the sampled cells (upper bound of any picker)
    oracle_std: float
    random_mean: float  # test accuracy of one uniformly drawn cell (random-pick baseline)
    random_std: float


def simulate_search(score, accuracy, n: int, runs: int, rng: random.Random) -> SearchRow:
    """NASWOT search replayed from stored scores (paper §4, Table 2).

    Per run, draw ``n`` positions uniformly with replacement; NASWOT picks the first position with
    the highest score; the oracle takes the highest accuracy among the ``n``; the random pick is one
    more uniform draw. Reported: mean and population std of the picked accuracies over ``runs``.
    """
    s, a = _pair(score, accuracy)
    if n < 1 or runs < 1:
        raise NwotError(f"n and runs must be >= 1, got n={n}, runs={runs}")
    m = len(s)
    naswot, oracle, rand = [], [], []
    for _ in range(runs):
        pos = [rng.randrange(m) for _ in range(n)]
        best = max(pos, key=lambda p: s[p])  # first maximum in draw order
        naswot.append(a[best])
        oracle.append(max(a[p] for p in pos))
        rand.append(a[rng.randrange(m)])
    return SearchRow(n, runs, float(np.mean(naswot)), float(np.std(naswot)), float(np.mean(oracle)),
                     float(np.std(oracle)), float(np.mean(rand)), float(np.std(rand)))


def search_curve(score, accuracy, sizes: Sequence[int], runs: int, seed: int = 0) -> Dict[int, SearchRow]:
    """:func:`simulate_search` for every N in ``sorted(sizes)``, all from one ``random.Random(seed)``."""
    rng = random.Random(seed)
    return {n: simulate_search(score, accuracy, n, runs, rng) for n in sorted(set(sizes))}


def best_so_far(rec: Mapping[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """(cumulative time, benchmark index of the best-by-signal arch) after each evaluation of a recorded run.

    ``rec["trace"]`` holds per step the benchmark ``index``, the ``signal``, the ``cost`` (simulated
    seconds) and optionally the ``kind``: only ``"eval"`` steps (a 12-epoch query) can become the best;
    other steps (``"score"``: AREA's pre-scoring) only advance the clock, and count once a best exists.
    """
    tr = rec["trace"]
    kinds = tr.get("kind") or ["eval"] * len(tr["index"])
    times, best, t, b, bs = [], [], 0.0, -1, -math.inf
    for i, s, c, k in zip(tr["index"], tr["signal"], tr["cost"], kinds):
        t += c
        if k == "eval" and (b < 0 or s > bs):
            b, bs = i, s
        if k == "eval" or b >= 0:
            times.append(t)
            best.append(b)
    return np.asarray(times), np.asarray(best)


def group_runs(records: Sequence[Mapping[str, Any]]) -> Dict[Tuple[str, str], List[Mapping[str, Any]]]:
    """Run records grouped by ``(setting, strategy)``, in first-seen order."""
    groups: Dict[Tuple[str, str], List[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["setting"], r["strategy"]), []).append(r)
    return groups


def curves(records: Sequence[Mapping[str, Any]], budgets: Mapping[str, float], reports: Mapping[str, Sequence[str]],
           test: Mapping[str, np.ndarray], order: Callable[[str], Any], points: int = 161) -> List[Dict[str, Any]]:
    """Mean / std over runs of the test accuracy of the best-so-far arch on ``points`` times in [0, budget].

    ``budgets[setting]`` and ``reports[setting]`` (datasets reported) per setting; ``test[dataset]`` = test
    accuracy of every benchmark index; ``order(strategy)`` sorts the strategies within a setting. A run
    counts at a time once it has evaluated a cell; ``runs`` says how many did.
    """
    rows = []
    groups = group_runs(records)
    for (sk, strat), recs in sorted(groups.items(), key=lambda kv: (kv[0][0], order(kv[0][1]))):
        grid = np.linspace(0.0, budgets[sk], points)
        for d in reports[sk]:
            vals = np.full((len(recs), points), np.nan)
            for k, rec in enumerate(recs):
                times, best = best_so_far(rec)
                pos = np.searchsorted(times, grid, side="right") - 1
                ok = pos >= 0
                vals[k, ok] = test[d][best[pos[ok]]]
            n = (~np.isnan(vals)).sum(axis=0)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns before the first evaluation
                mean, std = np.nanmean(vals, axis=0), np.nanstd(vals, axis=0)
            for g, nn, m, s in zip(grid, n, mean, std):
                rows.append({"setting": sk, "strategy": strat, "report_dataset": d, "time": float(g), "runs": int(nn),
                             "mean": None if nn == 0 else float(m), "std": None if nn == 0 else float(s)})
    return rows


def accuracies(bench, datasets: Sequence[str], split: str = "test") -> Dict[str, np.ndarray]:
    """200-epoch accuracy (seed mean) of every cell of ``bench`` per dataset: ``split="test"`` (the test
    split), or ``"valid"`` (x-valid of the search dataset: cifar10-valid / cifar100 / ImageNet16-120)."""
    from nwot.adapters.base import search_dataset

    if split == "test":
        return {d: np.array([bench.query(i, d, bench.full_hp).test_accuracy for i in range(len(bench))])
                for d in datasets}
    if split == "valid":
        return {d: np.array([bench.query(i, search_dataset(d), bench.full_hp).valid_accuracy
                             for i in range(len(bench))]) for d in datasets}
    raise NwotError(f"unknown accuracy split {split!r}; allowed: 'test', 'valid'")
