"""NASWOT on NAS-Bench-101: score NASLib's 500 CIFAR-10 cells, correlate with their trained accuracy.

Mellor et al., ICML 2021, §4 (the NAS-Bench-101 panel of Fig. 3 / Table 1): the score of each untrained
cell network (one CIFAR-10 batch) against its 108-epoch validation accuracy; beside it NASLib's other
zero-cost proxies from ``zc_nasbench101.json`` (shared data MANIFEST §3). Scoring goes through
:class:`nwot.scores.scorer.Scorer` (``build_kwargs={"stem_channels": stem}``); rows whose pruned spec
equals an already scored one reuse that score (same network, same weights, same batch: the same number).
Every score is appended to a work CSV at once, so a restart skips what is there. Correlations follow
the one rule of :mod:`nwot.study.correlation` (``-inf`` ranks last, NaN refused).
"""
from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from nwot.study.correlation import group_means, rank_correlation

WORK_FIELDS = ("stem", "row", "hash", "pruned_spec", "score", "seconds", "computed")
WorkRows = Dict[Tuple[int, int], Dict[str, str]]


def read_work(path: Path) -> WorkRows:
    """Rows of the work CSV keyed by ``(stem, row)`` (all values as strings)."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as f:
        return {(int(r["stem"]), int(r["row"])): r for r in csv.DictReader(f)}


def score_rows(bench, rows: Sequence[int], stem: int, scorer, work_path: Path, done: WorkRows, *,
               reuse: bool = True, progress: bool = True) -> int:
    """Score ``rows`` of ``bench`` (:class:`nwot.adapters.nb101.benchmark.NASLib500`) at one stem width with
    ``scorer`` (a :class:`~nwot.scores.scorer.Scorer` of the nb101 space built with that stem), appending each
    result to the work CSV immediately; returns the rows added."""
    from tqdm import tqdm

    from nwot.spaces.nb101.codec import encode_spec, prune

    by_spec = {r["pruned_spec"]: r for (s, _), r in done.items() if s == stem and r["computed"] == "1"}
    todo = [i for i in rows if (stem, i) not in done]
    new_file = not Path(work_path).is_file()
    with open(work_path, "a", newline="") as f:
        w = csv.DictWriter(f, WORK_FIELDS)
        if new_file:
            w.writeheader()
        for i in tqdm(todo, desc=f"NASWOT stem {stem}", unit="cell", disable=not progress):
            pruned = encode_spec(prune(bench.specs[i]))
            prev = by_spec.get(pruned) if reuse else None
            if prev is not None:
                rec = dict(prev, row=i, hash=bench.hashes[i], seconds=0.0, computed=0)
            else:
                t0 = time.perf_counter()
                score = scorer.score(bench.specs[i])
                rec = {"stem": stem, "row": i, "hash": bench.hashes[i], "pruned_spec": pruned, "score": repr(score),
                       "seconds": round(time.perf_counter() - t0, 4), "computed": 1}
                by_spec[pruned] = {k: str(v) for k, v in rec.items()}
            w.writerow(rec)
            f.flush()
            done[(stem, i)] = {k: str(v) for k, v in rec.items()}
    return len(todo)


def correlations(x, y) -> dict:
    """``{"spearman", "kendall", "n"}`` of ``x`` against ``y`` (:func:`~nwot.study.correlation.rank_correlation`)."""
    c = rank_correlation(x, y)
    return {"spearman": c.spearman_rho, "kendall": c.kendall_tau, "n": c.n}


def correlation_tables(table: Dict[str, np.ndarray], accuracy: np.ndarray, hashes: Sequence[str]):
    """Correlation of every column of ``table`` with ``accuracy`` over all rows, and over unique cells (one per
    graph hash, accuracy and scores averaged over its rows); returns ``(all rows, unique cells, n unique)``."""
    corr = {name: correlations(v, accuracy) for name, v in table.items()}
    labels, acc_u = group_means(accuracy, hashes)
    corr_unique = {name: correlations(group_means(v, hashes)[1], acc_u) for name, v in table.items()}
    return corr, corr_unique, len(labels)


def timing(done: WorkRows, stems: Sequence[int], rows: Sequence[int]) -> Dict[str, dict]:
    """Per stem: computed / reused rows and the seconds per computed score."""
    out = {}
    for stem in stems:
        secs = [float(done[(stem, i)]["seconds"]) for i in rows if done[(stem, i)]["computed"] == "1"]
        out[f"stem{stem}"] = {"computed": len(secs), "reused": len(rows) - len(secs),
                              "seconds_per_score_mean": float(np.mean(secs)) if secs else None,
                              "seconds_per_score_median": float(np.median(secs)) if secs else None,
                              "seconds_total": float(np.sum(secs))}
    return out


def write_table(path: Path, bench, rows: Sequence[int], accuracy: np.ndarray, table: Dict[str, np.ndarray]) -> None:
    """``nb101_correlation.csv``: one row per cell (spec, hash, accuracy, every score)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "spec", "hash", "val_accuracy"] + list(table))
        for k, i in enumerate(rows):
            w.writerow([i, bench.arch(i), bench.hashes[i], accuracy[k]] + [repr(float(v[k])) for v in table.values()])


def score_columns(bench, rows: Sequence[int], stems: Sequence[int], done: WorkRows,
                  others: Sequence[str]) -> Dict[str, np.ndarray]:
    """``naswot_stem<S>`` per stem (from the work rows) and NASLib's ``others`` proxies, per row."""
    table: Dict[str, np.ndarray] = {f"naswot_stem{s}": np.array([float(done[(s, i)]["score"]) for i in rows])
                                    for s in stems}
    table.update({k: np.array([bench.records[i][k] for i in rows], dtype=float) for k in others})
    return table


def list_rows(n_rows: int, limit) -> List[int]:
    """The first ``limit`` rows (all when None)."""
    return list(range(n_rows if limit is None else min(limit, n_rows)))
