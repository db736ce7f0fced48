"""The sections of the proxy study (:func:`run_study`): correlation tables, matrices, seed stability, label-free
ensembles, few-shot models and ensemble search, per pool of :func:`nwot.study.proxy_study.study_pools`.

Label-free and few-shot results are kept in separate sections (``ensembles`` / ``fewshot``); only the
few-shot section ever reads an accuracy before evaluating. The search ensemble fixed in advance is the
label-free subset of size 3 (:func:`nwot.study.ensembles.select_label_free`) by mean rank; beside it, marked
``pre_declared: False``, the later :data:`NO_CAP` subset by log-rank product.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Dict, List, Mapping, Sequence

import numpy as np
import pandas as pd

from nwot.study.ensemble_search import search_rows
from nwot.study.ensembles import AGGREGATIONS, aggregate, seed_stability, select_label_free
from nwot.study.fewshot import features, fewshot_table
from nwot.study.proxy_correlations import (
    ColumnInfo,
    correlation_row,
    correlation_table,
    oriented,
    proxy_matrix,
    rows_as_records,
)
from nwot.study.proxy_study import ACCURACY, AZ_NAS, OTHER_ACCURACIES, Pool, StudyData

#: Labelled cells of the few-shot models (issue #16), where the pool leaves >= 50 held-out cells.
FEWSHOT_KS = (10, 20, 50, 100, 1000)
#: Best-of-N sizes of the search replays (N = 1000 only on pools of >= 1000 cells).
SEARCH_NS = (100, 1000)
#: Largest label-free subset used by the search (fixed before any result was seen); the pool's every column
#: where the rule keeps them all.
SEARCH_SUBSET = 3


#: The label-free subset without a size cap: every seed-stable proxy but near-copies (the rule of the sized
#: subsets with the size left out). Added on 2026-12-01 after the sized subsets and the "all" rows had been seen
#: (so the *rule family* was extended post hoc; the subset itself is chosen from proxy values alone).
NO_CAP = "label-free, no cap"
NO_CAP_NOTE = " (rule added 2026-12-01, after the sized subsets' results were seen; no accuracy enters the choice)"


#: The columns of VKDNW_agg (:func:`nwot.proxies.population.vkdnw_aggregate`, in its argument order).
VKDNW_AGG = ("vkdnw_dim", "vkdnw", "jacov", "az_nas_expressivity", "az_nas_trainability", "flops")


def subsets(pool: Pool, matrix: pd.DataFrame, stability: Mapping[str, float]) -> Dict[str, dict]:
    """Named column subsets of a pool, each chosen without labels, with how it was chosen."""
    cols = [c.column for c in pool.columns]
    out = {f"all {len(cols)}": {"columns": cols, "how": "every column of the pool"}}
    for size in (3, 5, None):
        if size is None or size <= len(cols):
            ch = select_label_free(matrix, size=size or len(cols), stability=stability)
            name = f"label-free <={size}" if size else NO_CAP
            if ch.chosen != cols and all(ch.chosen != v["columns"] for v in out.values()):
                how = ch.rule if size else ch.rule.replace(f"; size {len(cols)}", "; no size cap") + NO_CAP_NOTE
                out[name] = {"columns": ch.chosen, "how": how, "dropped": ch.dropped, "consensus": ch.consensus}
    if all(c in cols for c in AZ_NAS):
        out["az_nas (paper's 4)"] = {"columns": list(AZ_NAS), "how": "AZ-NAS's own combination (its paper, Eq. 10)"}
    if all(c in cols for c in VKDNW_AGG):
        out["vkdnw_agg (paper's recipe)"] = {
            "columns": list(VKDNW_AGG), "rules": ["vkdnw_agg"],
            "how": "VKDNW_agg, its authors' combination (Tybl & Neumann, CVPR 2025, §3.3; "
                   "nwot.proxies.population.vkdnw_aggregate), fixed by that paper, not chosen here"}
    return out


def ensemble_score(pool: Pool, columns: Sequence[str], rule: str) -> pd.Series:
    """The label-free aggregate of ``columns`` by ``rule`` (one of :data:`nwot.study.ensembles.AGGREGATIONS`,
    or a paper's own population score of :func:`nwot.proxies.population.aggregate_by_name`, on the raw
    values, which orient themselves)."""
    if rule in AGGREGATIONS:
        return aggregate(oriented(pool.frame, pool.columns)[list(columns)], rule)
    from nwot.proxies.population import aggregate_by_name

    raw = {c: pool.frame[c].to_numpy(dtype=float) for c in columns}
    return pd.Series(aggregate_by_name(rule, raw), index=pool.frame.index)


def ensemble_rows(pool: Pool, subs: Mapping[str, dict], accuracy: pd.Series, rules: Sequence[str], draws: int
                  ) -> List[dict]:
    out = []
    for name, sub in subs.items():
        for rule in sub.get("rules", rules):
            s = ensemble_score(pool, sub["columns"], rule)
            info = ColumnInfo(f"{rule}: {name}", "ensemble", 1, f"ensemble[{rule}: {', '.join(sub['columns'])}]")
            r = correlation_row(info, s, accuracy, cell_set=pool.cell_set, accuracy_name=ACCURACY, draws=draws)
            d = r.flat()
            d.update({"subset": name, "rule": rule, "columns": sub["columns"], "how": sub["how"]})
            out.append(d)
    return sorted(out, key=lambda d: -d["kendall_tau"])


def fewshot_rows(pool: Pool, accuracy: pd.Series, draws: int) -> List[dict]:
    y = accuracy.loc[pool.frame.index].to_numpy(dtype=float)
    o = oriented(pool.frame, pool.columns)
    archs = pool.archs.loc[pool.frame.index].tolist()
    ens = aggregate(o, "mean_rank").to_frame()  # label-free: proxy values of the pool's cells only
    out = []
    for variant, x in (("proxies + encoding", features(o, archs)), ("proxies only", features(o, None)),
                       ("encoding only", features(None, archs)),
                       ("proxies + encoding + mean-rank ensemble", features(o.join(ens), archs))):
        for r in fewshot_table(x, y, FEWSHOT_KS, draws=draws, seed=0).values():
            d = asdict(r)
            d.pop("per_draw")
            d.update({"pool": pool.name, "variant": variant, "features": x.shape[1]})
            out.append(d)
    return out


def run_study(pools: Mapping[str, Pool], data: StudyData, table: pd.DataFrame, *, draws: int = 1000,
              fewshot_draws: int = 20, runs: int = 500, rules: Sequence[str] = ("mean_rank",),
              log: Callable[[str], None] = print) -> dict:
    """Every section for every pool (see the module docstring); a JSON-friendly dict."""
    acc = table[ACCURACY].astype(float)
    res: dict = {"pools": {}, "correlations": [], "other_datasets": [], "matrices": {}, "stability": {},
                 "ensembles": [], "fewshot": [], "search": []}
    infos = {c.column: c for p in pools.values() for c in p.columns}
    base0 = data.seed0.drop(columns=[c for c in ("naswot", "naswot__status") if c in data.seed0])
    if data.naswot is not None:
        base0 = base0.join(pd.DataFrame({"naswot": data.naswot}), how="outer")
    stab: Dict[str, float] = {}
    counts: Dict[str, int] = {}
    if data.seed1 is not None:
        cols = [c for n, c in infos.items() if n in data.seed1 and n in base0]
        s0, s1 = oriented(base0, cols), oriented(data.seed1, cols)
        stab = seed_stability(s0, s1, [c.column for c in cols])
        counts = {n: int((s0[n].reindex(s1.index).notna() & s1[n].notna()).sum()) for n in stab}
    res["stability"] = {"spearman": stab, "cells": counts,
                        "rule": "batch seed and init seed 0 vs 1 (naswot: batch seed 0 vs 1, init seed 0)"}
    for name, pool in pools.items():
        res["pools"][name] = {"cell_set": pool.cell_set, "cells": int(len(pool.frame)),
                              "columns": [c.column for c in pool.columns],
                              "accuracy_mean": float(acc.loc[pool.frame.index].mean()),
                              "accuracy_max": float(acc.loc[pool.frame.index].max())}
        log(f"{name}: {len(pool.frame)} cells x {len(pool.columns)} columns: correlations")
        rows = correlation_table(pool.frame, pool.columns, acc, cell_set=pool.cell_set, accuracy_name=ACCURACY,
                                 draws=draws)
        res["correlations"] += [dict(d, pool=name) for d in rows_as_records(rows)]
        if name in ("all15625", "sample3000"):
            for other in OTHER_ACCURACIES:
                rows = correlation_table(pool.frame, pool.columns, table[other].astype(float),
                                         cell_set=pool.cell_set, accuracy_name=other, draws=max(100, draws // 5))
                res["other_datasets"] += [dict(d, pool=name) for d in rows_as_records(rows)]
        m = proxy_matrix(pool.frame, pool.columns)
        res["matrices"][name] = {"columns": list(m.columns), "spearman": np.round(m.to_numpy(), 4).tolist()}
        subs = subsets(pool, m, {k: v for k, v in stab.items() if k in m.columns})
        log(f"{name}: ensembles ({len(subs)} subsets x {len(rules)} rules)")
        res["ensembles"] += [dict(d, pool=name) for d in ensemble_rows(pool, subs, acc, rules, draws)]
        log(f"{name}: few-shot")
        res["fewshot"] += fewshot_rows(pool, acc, fewshot_draws)
        ns = [n for n in SEARCH_NS if n <= len(pool.frame)]
        if ns and "naswot" in [c.column for c in pool.columns]:
            o = oriented(pool.frame, pool.columns)
            plans = [(subs.get(f"label-free <={SEARCH_SUBSET}", next(iter(subs.values()))), "mean_rank", True)]
            if NO_CAP in subs:
                plans.append((subs[NO_CAP], "log_rank_product", False))
            for sub, rule, declared in plans:
                log(f"{name}: search N={ns} x {runs} runs, {rule}")
                for r in search_rows(o[sub["columns"]], acc, ns, runs, rule=rule, single=o["naswot"],
                                     seed=0).values():
                    d = asdict(r)
                    d["pool_cells"] = d.pop("pool")
                    d.update({"pool": name, "ensemble": f"{rule}: {', '.join(sub['columns'])}",
                              "pre_declared": declared})
                    res["search"].append(d)
    return res
