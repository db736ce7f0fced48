"""The per-proxy correlation table and the proxy-proxy matrix, each row stamped with its full protocol.

Issue #16 ("Scores and the study"): per proxy, signed Kendall tau / Spearman rho against the trained
accuracy with bootstrap 95 % intervals (:func:`nwot.study.proxy_metrics.bootstrap_interval`), top-k
overlap (:func:`nwot.study.correlation.topk_overlap`), nDCG@k (:func:`nwot.study.proxy_metrics.ndcg_at_k`)
and the counts of ``-inf`` / NaN. **Signed** means the value is oriented by the proxy's declared direction
(``s = v`` if higher is better, ``s = -v`` if lower is) and the sign of tau is kept: a proxy that ranks
backwards shows a negative tau, never ``|tau|``. Cells whose proxy value is NaN (a failure, stored with its
status) are dropped and counted; ``-inf`` ranks last (the rule of :mod:`nwot.study.correlation`).

Pure functions of frames; reading exports and the benchmark table is the caller's job.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from nwot.errors import NwotError
from nwot.study.correlation import TOPK_FRACTIONS, rank_correlation, topk_overlap
from nwot.study.proxy_metrics import bootstrap_interval, kendall, ndcg_at_k, nonfinite_counts, spearman

#: nDCG cutoffs of the table.
NDCG_KS = (10, 50, 100)


@dataclass(frozen=True)
class Protocol:
    """How one column's numbers were measured (stamped on every row of the table)."""

    cells: int  # cells correlated (after dropping NaN)
    cell_set: str  # which cells: "naslib725", "sample3000 (prefix)", "all 15,625" ...
    accuracy: str  # ground truth, e.g. "cifar10/ori-test@200 (NATS-Bench mean over seeds)"
    split: str  # "ori-test", "x-test" ...
    epochs: int  # training epochs of the ground truth (200)
    batch: str  # images the proxy used ("-" = no images)
    batch_seed: int  # seed of the scoring batch (nwot.scoring_batch)
    init_seed: int  # seed of the network init (nwot.torch_seed)
    dtype: str  # float32 | float64
    mode: str  # clean (the paper's equation) | reference (the authors' released code)
    input: str  # images | ones | gaussian | none
    bn: str  # train | bypass | n/a
    init: str  # default | the re-init the proxy applies
    config: str  # the full config id (the store's score_name)


@dataclass(frozen=True)
class ColumnInfo:
    """One score column of a wide frame: its proxy, direction and configuration."""

    column: str  # column label in the frame ("snip", "naswot@bs32")
    proxy: str  # registered proxy name
    sign: int  # +1 higher is better, -1 lower is better
    config: str  # config id ("snip[mode=clean,bs=32,...]")
    batch_seed: int = 0
    init_seed: int = 0


@dataclass(frozen=True)
class CorrelationRow:
    column: str
    proxy: str
    direction: str  # "higher" | "lower" (as declared by the proxy)
    n: int  # cells correlated
    n_scored: int  # cells of the pool with a stored value (ok or failed)
    n_nan: int  # failed cells (NaN), dropped
    n_neg_inf: int  # -inf values (rank last)
    n_pos_inf: int
    kendall_tau: float  # signed, on the oriented value
    kendall_lo: float  # bootstrap 95 % interval
    kendall_hi: float
    spearman_rho: float
    spearman_lo: float
    spearman_hi: float
    topk: Dict[str, float] = field(default_factory=dict)  # "top1%" -> overlap
    ndcg: Dict[str, float] = field(default_factory=dict)  # "ndcg@10" -> value
    protocol: Optional[Protocol] = None

    def flat(self) -> Dict[str, object]:
        """One flat dict (CSV row): the metrics, then ``protocol.<field>``."""
        d = {k: v for k, v in asdict(self).items() if k not in ("topk", "ndcg", "protocol")}
        d.update(self.topk)
        d.update(self.ndcg)
        d.update({f"protocol.{k}": v for k, v in asdict(self.protocol).items()} if self.protocol else {})
        return d


def parse_accuracy_column(name: str) -> Dict[str, object]:
    """``"cifar10/ori-test@200"`` -> ``{"dataset": "cifar10", "split": "ori-test", "epochs": 200}``."""
    ds, sep, rest = name.partition("/")
    split, sep2, ep = rest.partition("@")
    if not (sep and sep2 and ep.isdigit()):
        raise NwotError(f"accuracy column must look like 'cifar10/ori-test@200', got {name!r}")
    return {"dataset": ds, "split": split, "epochs": int(ep)}


def config_fields(config: str) -> Dict[str, str]:
    """The ``key=value`` fields of a config id ``name[k=v,...]`` (anything after the ``]``, such as a note on the
    column's source, is ignored; empty for a non-proxy id)."""
    name, sep, rest = config.partition("[")
    body, close, _ = rest.partition("]")
    if not sep or not close:
        return {}
    return dict(kv.split("=", 1) for kv in body.split(",") if "=" in kv)


def oriented(df: pd.DataFrame, columns: Sequence[ColumnInfo]) -> pd.DataFrame:
    """The score columns multiplied by their sign (higher = predicted better for every column)."""
    return pd.DataFrame({c.column: df[c.column].astype(float) * c.sign for c in columns}, index=df.index)


def correlation_row(info: ColumnInfo, values: pd.Series, accuracy: pd.Series, *, cell_set: str, accuracy_name: str,
                    draws: int = 1000, seed: int = 0) -> CorrelationRow:
    """One row of the table: ``values`` (oriented, indexed by cell) against ``accuracy`` on their common cells."""
    common = values.index.intersection(accuracy.index)
    v, a = values.loc[common].astype(float), accuracy.loc[common].astype(float)
    if a.isna().any():
        raise NwotError(f"accuracy {accuracy_name!r} is missing for {int(a.isna().sum())} cells")
    counts = nonfinite_counts(v.to_numpy())
    keep = ~v.isna()
    x, y = v[keep].to_numpy(), a[keep].to_numpy()
    if len(x) < 3:
        raise NwotError(f"column {info.column!r} has {len(x)} cells with a value; need at least 3 to correlate")
    nan = float("nan")
    if np.unique(x).size < 2:  # a constant proxy ranks nothing: its tau / rho are undefined, not 0
        tau = rho = klo = khi = slo = shi = nan
    else:
        c = rank_correlation(x, y)
        tau, rho = c.kendall_tau, c.spearman_rho
        klo, khi = _interval(kendall, x, y, draws, seed)
        slo, shi = _interval(spearman, x, y, draws, seed)
    topk = {f"top{round(f * 100)}%": topk_overlap(x, y, f) for f in TOPK_FRACTIONS}
    ndcg = {f"ndcg@{k}": ndcg_at_k(x, y, k) for k in NDCG_KS if k <= len(x)}
    acc = parse_accuracy_column(accuracy_name)
    f = config_fields(info.config)
    proto = Protocol(cells=len(x), cell_set=cell_set, accuracy=accuracy_name, split=str(acc["split"]),
                     epochs=int(acc["epochs"]), batch=f.get("bs", "?"), batch_seed=info.batch_seed,
                     init_seed=info.init_seed, dtype=f.get("dtype", "?"), mode=f.get("mode", "?"),
                     input=f.get("input", "?"), bn=f.get("bn", "?"), init=f.get("init", "?"), config=info.config)
    return CorrelationRow(info.column, info.proxy, "higher" if info.sign > 0 else "lower", len(x), len(v),
                          counts["nan"], counts["neg_inf"], counts["pos_inf"], tau, klo, khi, rho, slo, shi, topk,
                          ndcg, proto)


def _interval(stat, x, y, draws: int, seed: int):
    """The bootstrap interval, or NaN where the statistic is undefined on most resamples (a near-constant score)."""
    try:
        return bootstrap_interval(stat, x, y, draws=draws, seed=seed)
    except NwotError:
        return float("nan"), float("nan")


def correlation_table(df: pd.DataFrame, columns: Sequence[ColumnInfo], accuracy: pd.Series, *, cell_set: str,
                      accuracy_name: str, draws: int = 1000, seed: int = 0) -> List[CorrelationRow]:
    """:func:`correlation_row` for every column, sorted by Kendall tau (best first). ``df`` holds the raw
    (not oriented) values indexed by cell; a column is evaluated on the cells where it is stored."""
    o = oriented(df, columns)
    rows = []
    for c in columns:
        stored = df[f"{c.column}__status"].notna() if f"{c.column}__status" in df else df[c.column].notna()
        rows.append(correlation_row(c, o.loc[stored, c.column], accuracy, cell_set=cell_set,
                                    accuracy_name=accuracy_name, draws=draws, seed=seed))
    return sorted(rows, key=lambda r: -r.kendall_tau if r.kendall_tau == r.kendall_tau else np.inf)


def proxy_matrix(df: pd.DataFrame, columns: Sequence[ColumnInfo], method: str = "spearman") -> pd.DataFrame:
    """Pairwise rank correlation of the oriented columns over the cells where both are not NaN
    (``-inf`` ranks last). ``method``: ``"spearman"`` or ``"kendall"``."""
    fn = {"spearman": spearman, "kendall": kendall}.get(method)
    if fn is None:
        raise NwotError(f"unknown matrix method {method!r}; allowed: 'spearman', 'kendall'")
    o = oriented(df, columns)
    names = [c.column for c in columns]
    m = np.eye(len(names))
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            both = o[names[i]].notna() & o[names[j]].notna()
            m[i, j] = m[j, i] = fn(o.loc[both, names[i]].to_numpy(), o.loc[both, names[j]].to_numpy()) \
                if both.sum() >= 3 else np.nan
    return pd.DataFrame(m, index=names, columns=names)


def rows_as_records(rows: Sequence[CorrelationRow]) -> List[Dict[str, object]]:
    return [r.flat() for r in rows]


def columns_from_configs(configs: Mapping[str, str], seeds: Optional[Mapping[str, Sequence[int]]] = None
                         ) -> List[ColumnInfo]:
    """:class:`ColumnInfo` per ``column -> config id`` (an export's provenance), the sign from the registered
    proxy's declared direction. ``seeds``: column -> (batch_seed, init_seed), default (0, 0)."""
    from nwot.proxies.base import Direction, get_proxy

    out = []
    for col, cfg in configs.items():
        name = cfg.split("[", 1)[0]
        p = get_proxy(name)  # an unknown name lists the known ones
        bs, ins = (seeds or {}).get(col, (0, 0))
        out.append(ColumnInfo(col, name, 1 if p.direction is Direction.HIGHER else -1, cfg, int(bs), int(ins)))
    return out
