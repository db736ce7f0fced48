"""Search curves and sample-efficiency statistics of search traces (pure maths on arrays).

Used by the papers' comparisons (:mod:`nwot.study.regevo`, :mod:`nwot.study.pnas_efficiency`,
:mod:`nwot.study.blockqnn_compare`):

* **best-so-far** (Real et al., AAAI 2019, Fig. 3; Liu et al., ECCV 2018, Table 1): after ``n`` models,
  ``b_n = max(s_1, ..., s_n)`` of the search signals ``s_i`` (failed evaluations, ``-inf`` or NaN, never count);
  the *reported* best-so-far is the report (e.g. the 200-epoch test accuracy) of the arch that holds ``b_n``
  (the first one to reach it: a later tie does not replace it, as in :func:`nwot.search.loop.run_search`);
* **top-M mean so far**: the mean of the ``M`` largest signals among the first ``n`` (PNAS Table 1 compares the
  mean accuracy of the top 1, 5 and 25 models; M = 1 is the best-so-far); undefined (NaN) while ``n < M``;
* **models to target**: ``N(t) = min{n : topM_n >= t}`` (1-based: the number of models evaluated when the target is
  first reached), ``None`` when the run never reaches it within its budget (right-censored);
* a distribution of censored ``N(t)`` over seeds is summarised by the fraction of runs that reached ``t`` and by
  quantiles in which a censored run counts as ``+inf`` (so the median exists iff at least half the runs reached
  the target), and two strategies by the ratio of their medians (PNAS's "speedup" = #models NAS / #models PNAS).
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from nwot.errors import NwotError


def _signals(signals: Sequence[float]) -> np.ndarray:
    s = np.asarray(signals, dtype=float)
    if s.ndim != 1:
        raise NwotError(f"a trace's signals must be one-dimensional, got shape {s.shape}")
    return np.where(np.isfinite(s), s, -np.inf)


def best_so_far(signals: Sequence[float]) -> np.ndarray:
    """``b_n = max(s_1..s_n)``; ``-inf`` before the first finite signal (failures are ``-inf`` / NaN)."""
    s = _signals(signals)
    return np.maximum.accumulate(s) if len(s) else s


def best_index_so_far(signals: Sequence[float]) -> np.ndarray:
    """Index (0-based) of the model holding ``b_n`` (the first to reach it); -1 before the first finite signal."""
    s = _signals(signals)
    out = np.empty(len(s), dtype=int)
    best, idx = -math.inf, -1
    for i, v in enumerate(s):
        if v > best:
            best, idx = v, i
        out[i] = idx
    return out


def reported_best_so_far(signals: Sequence[float], reports: Sequence[float]) -> np.ndarray:
    """``reports[j_n]`` where ``j_n`` holds the best-so-far signal (NaN before the first finite signal)."""
    rep = np.asarray(reports, dtype=float)
    if len(rep) != len(signals):
        raise NwotError(f"{len(signals)} signals but {len(rep)} reports")
    idx = best_index_so_far(signals)
    return np.where(idx >= 0, rep[np.maximum(idx, 0)], np.nan)


def top_m_mean_so_far(signals: Sequence[float], m: int = 1) -> np.ndarray:
    """Mean of the ``m`` largest signals among the first ``n`` (NaN while fewer than ``m`` models, or while a
    failure is among the top ``m``)."""
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise NwotError(f"top-M needs an int M >= 1, got {m!r}")
    s = _signals(signals)
    if m == 1:
        b = best_so_far(s)
        return np.where(np.isfinite(b), b, np.nan)
    out = np.full(len(s), np.nan)
    top: List[float] = []
    for i, v in enumerate(s):
        top.append(v)
        top.sort(reverse=True)
        del top[m:]
        if len(top) == m and all(math.isfinite(x) for x in top):
            out[i] = sum(top) / m
    return out


def models_to_target(signals: Sequence[float], target: float, m: int = 1) -> Optional[int]:
    """``min{n : top-m mean of the first n signals >= target}`` (1-based), ``None`` if never reached."""
    curve = top_m_mean_so_far(signals, m)
    hit = np.nonzero(curve >= target)[0]
    return int(hit[0]) + 1 if len(hit) else None


def censored_quantile(values: Sequence[Optional[int]], q: float) -> float:
    """The ``q`` quantile (lower, i.e. an observed value) of ``values`` with ``None`` (not reached) as ``+inf``."""
    if not 0 <= q <= 1:
        raise NwotError(f"quantile q must be in [0, 1], got {q!r}")
    if not len(values):
        raise NwotError("no runs to summarise")
    v = np.sort(np.array([math.inf if x is None else float(x) for x in values]))
    return float(v[int(math.ceil(q * len(v))) - 1]) if q > 0 else float(v[0])


def summarise_hits(values: Sequence[Optional[int]], budget: Optional[int] = None) -> Dict[str, object]:
    """Runs, fraction reaching the target, quartiles (censored as +inf; ``None`` when infinite), mean over the
    runs that reached it, and the budget the censored runs had."""
    reached = [x for x in values if x is not None]
    out: Dict[str, object] = {"runs": len(values), "reached": len(reached),
                              "fraction_reached": len(reached) / len(values) if values else float("nan")}
    for name, q in (("q25", 0.25), ("median", 0.5), ("q75", 0.75)):
        x = censored_quantile(values, q)
        out[name] = None if math.isinf(x) else x
    out["mean_reached"] = float(np.mean(reached)) if reached else None
    out["budget"] = budget
    return out


def median_ratio(slow: Sequence[Optional[int]], fast: Sequence[Optional[int]]) -> Dict[str, Optional[float]]:
    """``median(slow) / median(fast)`` of two censored distributions (PNAS's speedup). When a median is censored the
    ratio is bounded: ``lower`` = budget-censored ratio ``> x`` (slow censored) or ``None``."""
    ms, mf = censored_quantile(slow, 0.5), censored_quantile(fast, 0.5)
    if math.isinf(mf):
        return {"ratio": None, "at_least": None}
    if math.isinf(ms):
        top = max((x for x in slow if x is not None), default=None)
        return {"ratio": None, "at_least": None if top is None else top / mf}
    return {"ratio": ms / mf, "at_least": None}


def band(curves: Sequence[Sequence[float]], quantiles: Sequence[float] = (0.25, 0.5, 0.75)) -> Dict[str, np.ndarray]:
    """Per step: mean, std (population) and ``quantiles`` over runs of equal-length curves (NaN entries skipped)."""
    if not len(curves):
        raise NwotError("no curves to summarise")
    lengths = {len(c) for c in curves}
    if len(lengths) != 1:
        raise NwotError(f"curves must have equal lengths (cut them to a common budget), got lengths {sorted(lengths)}")
    a = np.asarray(curves, dtype=float)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = {"mean": np.nanmean(a, axis=0), "std": np.nanstd(a, axis=0)}
            for q in quantiles:
                out[f"q{int(round(100 * q)):02d}"] = np.nanquantile(a, q, axis=0)
    return out


def top_fraction_targets(values: Sequence[float], fractions: Sequence[float]) -> Dict[float, float]:
    """For each fraction ``f``, the signal ``t_f`` reached by the best ``f`` of the space: the ``1 - f`` quantile
    (``numpy.quantile``, linear) of ``values`` (finite ones)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        raise NwotError("no finite values to take target quantiles of")
    bad = [f for f in fractions if not 0 < f < 1]
    if bad:
        raise NwotError(f"top fractions must be in (0, 1), got {bad}")
    return {float(f): float(np.quantile(v, 1 - f)) for f in fractions}


def at_steps(curve: Sequence[float], steps: Sequence[int]) -> Dict[int, float]:
    """``curve`` after ``n`` models for each ``n`` in ``steps`` (1-based)."""
    c = np.asarray(curve, dtype=float)
    bad = [n for n in steps if not 1 <= n <= len(c)]
    if bad:
        raise NwotError(f"steps must be in 1..{len(c)}, got {bad}")
    return {int(n): float(c[n - 1]) for n in steps}


def hits_table(traces: Mapping[str, Sequence[Sequence[float]]], targets: Mapping[str, float], m: int = 1,
               budget: Optional[int] = None) -> Dict[str, Dict[str, Dict[str, object]]]:
    """``{target name: {strategy: summarise_hits(models_to_target per run)}}`` plus the raw values under
    ``"values"`` in each summary."""
    out: Dict[str, Dict[str, Dict[str, object]]] = {}
    for tname, t in targets.items():
        out[tname] = {}
        for strat, runs in traces.items():
            vals = [models_to_target(s, t, m) for s in runs]
            out[tname][strat] = {**summarise_hits(vals, budget), "values": vals, "target": t}
    return out
