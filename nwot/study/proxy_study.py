"""The zero-cost proxy study of NAS-Bench-201 (issue #16 part 2): pools of scored cells and their sections.

Inputs (read by :func:`load_study_data`, the only I/O here): the wide proxy exports of
:func:`nwot.scores.proxy_store.export_wide` (seed 0, and optionally seed 1 for seed stability), the
full-space NASWOT export (``benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz``: batch 128, seeds 0)
and the NB201 table (accuracies; FLOPs / params of every cell, rank-identical to the ``flops`` / ``params``
proxies: Spearman 1.000 / 0.9997 on the 725 NASLib cells).

**Pools** (:func:`study_pools`): a pool is a set of cells on which every one of its columns is stored, so
that all rows of a pool are measured on the same cells:

* ``all15625``: every NB201 cell; naswot, flops, params;
* ``sample3000``: the stored prefix of ``random.Random(0).sample(range(15625), 3000)``; the proxies scored
  on the sample;
* ``sample3000+``: the (shorter) stored prefix of the same draw where the ``sample_plus`` proxies too are
  stored (the expensive ones still being scored, e.g. VKDNW_agg's vkdnw and jacov), when it holds >= 100 cells;
* ``naslib725``: NASLib's 725 cells; the NASLib proxies (+ naswot at NASLib's batch 32 and at 128);
* ``suite``: the NASLib cells scored with every proxy stored on >= 25 % of them (a prefix of the 725; grows
  as background scoring runs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from nwot.errors import NwotError
from nwot.study.proxy_correlations import ColumnInfo, columns_from_configs

#: The ground truth of the study: NB201 200-epoch test accuracy, NATS-Bench mean over seeds.
ACCURACY = "cifar10/ori-test@200"
#: Other datasets' test accuracies (the proxies still see the CIFAR-10 batch: a transfer check).
OTHER_ACCURACIES = ("cifar100/x-test@200", "ImageNet16-120/x-test@200")
#: Columns of the table standing in for the flops / params proxies on the full space.
TABLE_PROXIES = {"flops": "flops", "params": "params"}
#: The AZ-NAS combination (Lee & Ham, CVPR 2024, Eq. 10): its four components, by the paper.
AZ_NAS = ("az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability", "az_nas_complexity")


@dataclass
class StudyData:
    seed0: pd.DataFrame  # wide export (index -> <col>, <col>__status, arch)
    configs: Dict[str, str]  # column -> config id
    seed1: Optional[pd.DataFrame] = None  # the same at batch / init seed 1 (seed stability)
    naswot: Optional[pd.Series] = None  # full-space NASWOT (batch 128), index -> score
    sources: Dict[str, str] = field(default_factory=dict)


@dataclass
class Pool:
    name: str
    cell_set: str  # in words, with the count
    frame: pd.DataFrame  # raw values (and __status) of the pool's cells, indexed by cell
    columns: List[ColumnInfo]
    archs: pd.Series  # index -> arch string


def load_study_data(export, seed1_export=None, naswot_export=None) -> StudyData:
    """Read the exports (see the module docstring). ``export`` may also be a ``ScoreStore`` path (``.sqlite``),
    read through :func:`nwot.scores.proxy_store.stored_keys` (every current config, seeds 0 and 1)."""
    from nwot.scores.proxy_store import configs_in, read_wide

    export = Path(export)
    if export.suffix == ".sqlite":
        from nwot.scores.proxy_store import stored_keys, wide_frame
        from nwot.scores.store import ScoreStore

        with ScoreStore(export) as st:
            k0 = stored_keys(st, "nb201", "cifar10", 0, 0)
            k1 = stored_keys(st, "nb201", "cifar10", 1, 1)
            d0 = wide_frame(st, "nb201", "cifar10", k0).set_index("index").sort_index()
            d1 = wide_frame(st, "nb201", "cifar10", k1).set_index("index").sort_index() if k1 else None
        configs = {n: k.score_name for n, k in k0.items()}
    else:
        d0, configs = read_wide(export), configs_in(export)
        d1 = read_wide(seed1_export) if seed1_export else None
    nw = None
    if naswot_export:
        f = pd.read_csv(naswot_export).set_index("index").sort_index()
        nw = f["score"].astype(float)
    return StudyData(d0, configs, d1, nw, {"export": str(export), "seed1": str(seed1_export or ""),
                                           "naswot": str(naswot_export or "")})


#: A proxy joins the ``suite`` pool when it is stored on at least this fraction of NASLib's cells: more than
#: the about 3000 / 15625 = 19 % of them (139 of 725) that the 3,000-cell sample holds, so a proxy scored only on
#: the sample (e.g. after a version bump) does not shrink the pool to the overlap.
SUITE_MIN_FRACTION = 0.25


def stored_mask(frame: pd.DataFrame, columns: Sequence[ColumnInfo]) -> np.ndarray:
    """Rows where every column is stored (a value, or a failure with its status)."""
    stored = np.ones(len(frame), dtype=bool)
    for c in columns:
        st = f"{c.column}__status"
        if c.column not in frame:
            return np.zeros(len(frame), dtype=bool)
        stored &= (frame[st].notna() if st in frame else frame[c.column].notna()).to_numpy()
    return stored


def stored_prefix(frame: pd.DataFrame, cells: Sequence[int], columns: Sequence[ColumnInfo]) -> pd.DataFrame:
    """The rows of ``cells`` in that order up to the first cell where a column is not stored (a prefix of a
    random sample is itself a uniform sample; cells stored beyond a gap are left out)."""
    sub = frame.reindex(pd.Index(list(cells)))
    ok = stored_mask(sub, columns)
    return sub.iloc[:len(ok) if ok.all() else int(np.argmin(ok))]


def _pool(name: str, cell_set: str, frame: pd.DataFrame, columns: List[ColumnInfo], archs: pd.Series) -> Pool:
    f = frame.loc[stored_mask(frame, columns)]
    return Pool(name, f"{cell_set} ({len(f)} cells)", f, columns, archs.loc[f.index])


def study_pools(data: StudyData, table: pd.DataFrame, *, sample_cells: Sequence[int],
                naslib_cells: Sequence[int], sample: Sequence[str], naslib: Sequence[str],
                sample_plus: Sequence[str] = ()) -> Dict[str, Pool]:
    """The pools of the module docstring (a pool whose columns are missing from the data is left out)."""
    from nwot.proxies.base import get_proxy

    archs_all = table["arch"]
    out: Dict[str, Pool] = {}
    infos = {c.column: c for c in columns_from_configs(data.configs)}
    d0 = data.seed0
    if data.naswot is not None:
        full = pd.DataFrame({"naswot": data.naswot}).join(table[list(TABLE_PROXIES.values())], how="inner")
        nw_cfg = get_proxy("naswot").config_id("clean")
        cols = [ColumnInfo("naswot", "naswot", 1, nw_cfg + " (full-space NASWOT export)")]
        for col, tcol in TABLE_PROXIES.items():
            cols.append(ColumnInfo(col, col, 1, get_proxy(col).config_id("clean") + f" (NB201 table '{tcol}')"))
        out["all15625"] = _pool("all15625", "all NB201 cells", full, cols, archs_all)
        if "naswot" in infos:  # the store's own naswot (batch 128) duplicates the full-space export
            infos.pop("naswot")
        infos["naswot"] = cols[0]
        d0 = d0.drop(columns=[c for c in ("naswot", "naswot__status") if c in d0]).join(
            pd.DataFrame({"naswot": data.naswot, "naswot__status": "ok"}), how="left")
    draw = "random.Random(0).sample(range(15625), 3000), stored prefix"
    for name, cells, want, words in (
            ("sample3000", sample_cells, sample, draw),
            ("sample3000+", sample_cells, tuple(sample) + tuple(sample_plus) if sample_plus else (), draw),
            ("naslib725", naslib_cells, naslib, "NASLib's 725 zero-cost cells")):
        cols = [infos[c] for c in want if c in infos]
        if not cols:
            continue
        if name.startswith("sample3000"):
            sub = stored_prefix(d0, cells, cols)
            if name == "sample3000+" and (len(sub) < 100 or any(c not in infos for c in sample_plus)):
                continue
        else:
            sub = d0.loc[d0.index.intersection(pd.Index(list(cells)))]
        out[name] = _pool(name, words, sub.sort_index(), cols, archs_all)
    # the suite: NASLib's cells scored with every proxy that has been run on them (a proxy scored only on the
    # sample, e.g. after a version bump, would otherwise empty the pool)
    on_naslib = d0.loc[d0.index.intersection(pd.Index(list(naslib_cells)))]
    need = max(20, SUITE_MIN_FRACTION * len(on_naslib))
    suite = [c for c in infos.values() if c.column in d0 and stored_mask(on_naslib, [c]).sum() >= need]
    if suite:
        p = _pool("suite", "NASLib cells scored with every proxy run on them", on_naslib, suite, archs_all)
        if len(p.frame) >= 20:
            out["suite"] = p
    return out


def naslib_cells_of(data: StudyData) -> List[int]:
    """NASLib's 725 cells: from the export's provenance (``cell_sets.naslib725``), else from the shared data
    (:func:`nwot.study.naslib.subset725_indices`)."""
    meta = provenance_of(data.sources.get("export", ""))
    cells = meta.get("cell_sets", {}).get("naslib725")
    if cells:
        return [int(c) for c in cells]
    from nwot.paths import shared_data_dir
    from nwot.study.naslib import subset725_indices

    try:
        return subset725_indices(shared_data_dir())
    except OSError as e:
        raise NwotError(f"NASLib's cell list is neither in the export's provenance nor readable from the shared "
                        f"data ({e})") from e


def provenance_of(path) -> dict:
    """The provenance JSON beside an export (empty if none)."""
    p = Path(str(path) + ".json")
    return json.loads(p.read_text()) if p.is_file() else {}


def check_pool(pool: Pool) -> None:
    if len(pool.frame) < 3:
        raise NwotError(f"pool {pool.name!r} has {len(pool.frame)} cells; need at least 3")
