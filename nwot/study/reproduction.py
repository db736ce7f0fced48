"""Reproducing the NASWOT paper on NAS-Bench-201: loaders for saved scores and the study's maths.

Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training", ICML 2021,
arXiv:2006.04647: §4 / Fig. 3 (rank correlation of the score with trained accuracy), Table 2 (NASWOT
search with N sampled cells), §5 ablations (batch, init, batch size). The benchmark scripts
(``benchmarks/nb201_correlation.py``, ``benchmarks/nb201_search_table.py``) and the notebook
``notebooks/naswot_nb201.ipynb`` call these functions; everything below the loaders is pure maths on
arrays, with randomness only through a passed :class:`random.Random`.
"""
from __future__ import annotations

import ast
import csv
import json
import lzma
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from nwot.errors import BenchmarkFileError, NwotError

#: The paper's NAS-Bench-201 CIFAR-10 numbers (Mellor et al., ICML 2021): Kendall tau of Fig. 3 and
#: Table 2's NASWOT test accuracy (mean, std over 500 runs) for N sampled cells.
PAPER_KENDALL_TAU_C10 = 0.574
PAPER_SEARCH_C10: Dict[int, Tuple[float, float]] = {10: (92.44, 1.13), 100: (92.81, 0.99), 1000: (92.96, 0.81)}
#: An independent rerun of the paper's score over all 15,625 cells (quoted in the project issue).
RERUN_KENDALL_TAU_C10, RERUN_SPEARMAN_C10 = 0.571, 0.762

#: Columns of an exported score file (``benchmarks/score_nb201.py``).
SCORE_COLUMNS = ("index", "arch", "score", "seconds")
#: Top-k fractions of the correlation study.
TOPK_FRACTIONS = (0.01, 0.05, 0.10)


# --------------------------------------------------------------------------------------------------
# Loaders.
# --------------------------------------------------------------------------------------------------


def load_scores(path) -> pd.DataFrame:
    """An exported score file (CSV, ``.csv.xz`` ok) as a DataFrame indexed by NB201 index.

    Columns ``arch``, ``score`` (NASWOT log|det K_H|, ``-inf`` for a singular kernel) and ``seconds``.
    """
    path = Path(path)
    if not path.is_file():
        raise BenchmarkFileError(f"score file {path} not found; write it with `python benchmarks/score_nb201.py "
                                 f"--export {path}`")
    df = pd.read_csv(path)
    missing = [c for c in SCORE_COLUMNS if c not in df.columns]
    if missing:
        raise BenchmarkFileError(f"score file {path} lacks columns {missing}; expected {list(SCORE_COLUMNS)}")
    if df["index"].duplicated().any():
        raise BenchmarkFileError(f"score file {path} has duplicated indices, e.g. "
                                 f"{int(df['index'][df['index'].duplicated()].iloc[0])}")
    return df.set_index("index").sort_index()[["arch", "score", "seconds"]]


def load_store_scores(store_path, *, dataset: str = "cifar10", batch_size: int = 128, batch_seed: int = 0,
                      init_seed: int = 0, compat: str = "clean") -> pd.DataFrame:
    """The NB201 scores of one key of a SQLite score store, in :func:`load_scores`' layout."""
    from nwot.scores.store import ScoreStore, StoreKey

    if not Path(store_path).is_file():
        raise BenchmarkFileError(f"score store {store_path} not found; fill it with benchmarks/score_nb201.py")
    name = "naswot" if compat == "clean" else f"naswot-{compat}"
    key = StoreKey("nb201", dataset, batch_seed, batch_size, init_seed, name)
    with ScoreStore(store_path) as st:
        df = st.to_frame(key)
    df = df.rename(columns={"arch_index": "index", "value": "score"})
    return df.set_index("index").sort_index()[["arch", "score", "seconds"]]


def load_naslib_index_map(path) -> Dict[str, int]:
    """NASLib tuple string ``"(0, 2, 3, 2, 3, 1)"`` -> NB201 index, from ``nb201_index_encodings.csv.xz``."""
    with lzma.open(path, "rt", encoding="utf-8", newline="") as f:
        return {r["naslib_op_indices"]: int(r["index"]) for r in csv.DictReader(f)}


def load_naslib_zc(path, index_map: Mapping[str, int], *, dataset: str = "cifar10",
                   proxy: str = "nwot") -> pd.DataFrame:
    """NASLib's zero-cost scores (``zc_nasbench201_*.json.xz``) as a DataFrame indexed by NB201 index.

    Columns ``naslib_score`` (``proxy``'s score; NASLib's NASWOT is ``nwot``) and ``val_accuracy``
    (despite the name, a single-seed 200-epoch test-split accuracy: shared data MANIFEST §1.8).
    """
    with lzma.open(path, "rt", encoding="utf-8") as f:
        data = json.load(f)
    if dataset not in data:
        raise NwotError(f"unknown dataset {dataset!r} in {path}; allowed: {', '.join(map(repr, data))}")
    rows = []
    for key, rec in data[dataset].items():
        if key not in index_map:
            raise BenchmarkFileError(f"NASLib tuple {key!r} in {path} has no NB201 index")
        rows.append((index_map[key], key, float(rec[proxy]["score"]), float(rec["val_accuracy"])))
    df = pd.DataFrame(rows, columns=["index", "naslib_tuple", "naslib_score", "val_accuracy"])
    return df.set_index("index").sort_index()


#: NASLib's NB201 op ids (``OP_NAMES``) and edge order (0-based ``EDGE_LIST``), MANIFEST §0.
NASLIB_OPS = ("skip_connect", "none", "nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3")
NASLIB_EDGES = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def naslib_tuple_to_arch(key: str) -> Tuple[str, ...]:
    """NASLib tuple string -> nwot NB201 arch (6 op names in arch-string order), by NASLib's conversion rule."""
    from nwot.spaces.nb201.codec import EDGES, check_ops

    try:
        ids = ast.literal_eval(key)
    except (ValueError, SyntaxError) as e:
        raise NwotError(f"malformed NASLib tuple {key!r}: {e}") from e
    if not isinstance(ids, tuple) or len(ids) != len(NASLIB_EDGES) or \
            not all(isinstance(i, int) and 0 <= i < len(NASLIB_OPS) for i in ids):
        raise NwotError(f"a NASLib NB201 tuple has 6 op ids in 0..{len(NASLIB_OPS) - 1}, got {key!r}")
    by_edge = {e: NASLIB_OPS[i] for e, i in zip(NASLIB_EDGES, ids)}
    return check_ops([by_edge[e] for e in EDGES])


# --------------------------------------------------------------------------------------------------
# Cell sets.
# --------------------------------------------------------------------------------------------------


def random_cells(n: int, seed: int = 0, total: int = 15_625) -> List[int]:
    """``n`` distinct NB201 indices drawn uniformly without replacement by ``random.Random(seed)``."""
    if not 0 < n <= total:
        raise NwotError(f"number of random cells must be in 1..{total}, got {n}")
    return random.Random(seed).sample(range(total), n)


def unique_mask(archs: Sequence[str]) -> np.ndarray:
    """Bool mask keeping one cell per isomorphism class (:func:`nwot.spaces.nb201.codec.unique_str`): the first in order."""
    from nwot.spaces.nb201.codec import unique_str

    seen, keep = set(), []
    for a in archs:
        u = unique_str(a)
        keep.append(u not in seen)
        seen.add(u)
    return np.array(keep, dtype=bool)


def path_mask(archs: Sequence[str]) -> np.ndarray:
    """Bool mask of the cells with an input->output path (:func:`nwot.spaces.nb201.codec.has_path`)."""
    from nwot.spaces.nb201.codec import has_path

    return np.array([has_path(a) for a in archs], dtype=bool)


# --------------------------------------------------------------------------------------------------
# Correlation maths (pure functions).
# --------------------------------------------------------------------------------------------------


def _pair(x, y) -> Tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise NwotError(f"need two 1-d arrays of equal length, got shapes {x.shape} and {y.shape}")
    if np.isnan(x).any() or np.isnan(y).any():
        raise NwotError("NaN in the values to correlate; drop or fill them first")
    return x, y


@dataclass(frozen=True)
class Correlation:
    n: int  # number of cells
    kendall_tau: float  # Kendall tau-b (scipy.stats.kendalltau)
    spearman_rho: float  # Spearman rho (scipy.stats.spearmanr)


def rank_correlation(score, accuracy) -> Correlation:
    """Kendall tau-b and Spearman rho between ``score`` and ``accuracy`` (paper §4, Fig. 3).

    A singular kernel's ``-inf`` score is kept: it ranks below every finite score (ties among
    themselves), which is what a search that maximises the score does with it.
    """
    from scipy import stats

    x, y = _pair(score, accuracy)
    if len(x) < 2:
        raise NwotError(f"need at least 2 cells to correlate, got {len(x)}")
    # ranks first: scipy's tau/rho on ranks equal tau/rho on values, and ranks make -inf an ordinary number
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    return Correlation(len(x), float(stats.kendalltau(rx, ry).statistic), float(stats.spearmanr(rx, ry).statistic))


def singular_treatments(score, accuracy, *, draws: int = 20, seed: int = 0) -> Dict[str, Dict[str, float]]:
    """Kendall tau / Spearman rho under three treatments of the singular kernels' ``-inf`` scores.

    * ``"last"``: ``-inf`` ranks below every finite score (nwot, :func:`rank_correlation`);
    * ``"excluded"``: singular cells dropped;
    * ``"random"``: each singular score replaced by a uniform draw over the finite scores' range, mean
      and std over ``draws`` draws of ``numpy.random.default_rng(seed)`` -- a model of the released
      code, whose slogdet returns rounding noise for a numerically singular kernel instead of ``-inf``.
    """
    x, y = _pair(score, accuracy)
    fin = np.isfinite(x)
    out: Dict[str, Dict[str, float]] = {}
    c = rank_correlation(x, y)
    out["last"] = {"n": c.n, "singular": int((~fin).sum()), "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}
    c = rank_correlation(x[fin], y[fin])
    out["excluded"] = {"n": c.n, "kendall_tau": c.kendall_tau, "spearman_rho": c.spearman_rho}
    rng = np.random.default_rng(seed)
    taus, rhos = [], []
    for _ in range(draws if (~fin).any() else 1):
        z = x.copy()
        z[~fin] = rng.uniform(x[fin].min(), x[fin].max(), int((~fin).sum()))
        c = rank_correlation(z, y)
        taus.append(c.kendall_tau)
        rhos.append(c.spearman_rho)
    out["random"] = {"n": len(x), "draws": len(taus), "kendall_tau": float(np.mean(taus)),
                     "kendall_tau_std": float(np.std(taus)), "spearman_rho": float(np.mean(rhos)),
                     "spearman_rho_std": float(np.std(rhos))}
    return out


def top_k(values, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values; ties broken by position (earlier first)."""
    v = np.asarray(values, dtype=float)
    return np.argsort(-v, kind="stable")[:k]


def topk_overlap(score, accuracy, fraction: float) -> float:
    """``|top_k(score) ∩ top_k(accuracy)| / k`` with ``k = max(1, round(fraction * n))``."""
    x, y = _pair(score, accuracy)
    if not 0 < fraction <= 1:
        raise NwotError(f"top-k fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * len(x))))
    return len(set(top_k(x, k).tolist()) & set(top_k(y, k).tolist())) / k


def mean_pairwise_tau(columns: Sequence[Sequence[float]]) -> Tuple[float, float, float]:
    """Mean, min and max Kendall tau over all pairs of score vectors (the same cells in each).

    Sensitivity of the score to the batch or the init seed (paper §5 ablations).
    """
    taus = [rank_correlation(columns[i], columns[j]).kendall_tau
            for i in range(len(columns)) for j in range(i + 1, len(columns))]
    if not taus:
        raise NwotError("need at least 2 score vectors")
    return float(np.mean(taus)), float(min(taus)), float(max(taus))


# --------------------------------------------------------------------------------------------------
# Search table from stored scores (paper Table 2).
# --------------------------------------------------------------------------------------------------


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


def nb201_correlation_rows(score: pd.Series, table: pd.DataFrame, accuracy_columns: Sequence[str],
                           fractions: Sequence[float] = TOPK_FRACTIONS) -> List[dict]:
    """Kendall tau, Spearman rho and top-k overlaps of NB201 ``score`` (indexed by NB201 index) against
    each accuracy column of ``table``, over three subsets of the scored cells: ``all``; ``path`` (cells
    with an input->output path, :func:`path_mask`); ``unique`` (one cell per isomorphism class,
    :func:`unique_mask`, the lowest index).
    """
    score = score.sort_index()
    archs = table["arch"].loc[score.index].tolist()
    subsets = {"all": np.ones(len(score), dtype=bool), "path": path_mask(archs), "unique": unique_mask(archs)}
    rows = []
    for subset, mask in subsets.items():
        s = score.to_numpy()[mask]
        for col in accuracy_columns:
            a = table[col].loc[score.index].to_numpy()[mask]
            c = rank_correlation(s, a)
            row = {"subset": subset, "accuracy": col, "n": c.n, "kendall_tau": c.kendall_tau,
                   "spearman_rho": c.spearman_rho, "singular": int(np.isneginf(s).sum())}
            for f in fractions:
                row[f"top{f * 100:g}%"] = topk_overlap(s, a, f)
            rows.append(row)
    return rows


def finite_or_none(x: float) -> Optional[float]:
    """JSON-friendly float: ``None`` for NaN / inf."""
    return float(x) if math.isfinite(x) else None
