"""Per-space table loaders of the explorer (registered in :data:`nwot.explore.data.TABLES`).

Each loader maps an :class:`~nwot.explore.data.ExploreConfig` to ``{name: SpaceTable | Unavailable}``
(NDS: one entry per file given). Sources:

* ``nb201``: the embedded NB201 table (``nwot.load_nb201_table``: ``params`` and
  ``{dataset}/{split}@{epochs}``), the stored NASWOT scores of ``benchmarks/results`` and ``--scores``
  files, and the HW-NAS-Bench latency / energy columns the embedded table carries (Li et al., ICLR 2021);
* ``nb101``: NASLib's 500 CIFAR-10 cells (``zc_nasbench101.json``: ``val_accuracy`` of one 108-epoch
  repeat, params, FLOPs and 9 zero-cost proxies; MANIFEST §3) and the stored NASWOT scores;
* ``nds``: the NDS files given (Radosavovic et al., ICCV 2019), via ``nwot.get_benchmark("nds", path=...)``;
* ``nats-sss``: no accuracy table is staged; it is listed as unavailable with that reason.
"""
from __future__ import annotations

import functools
from dataclasses import replace
from typing import Dict

import numpy as np
import pandas as pd

from nwot.errors import NwotError
from nwot.explore.data import (
    ARCH,
    EDGE_PREFIX,
    HAS_PATH,
    NB101_STORED_SCORES,
    NB201_STORED_SCORES,
    RESULTS_DIR,
    SPACE_TITLES,
    TABLES,
    ExploreConfig,
    Loaded,
    SpaceTable,
    Unavailable,
    add_score_files,
    finite_or_nan,
    guess_role,
    iso_columns,
    op_count_columns,
)


def _numeric_columns(df: pd.DataFrame):
    return [c for c in df.columns if c != "arch" and pd.api.types.is_numeric_dtype(df[c])]


def _pick(roles, *candidates, role=None):
    """The first candidate column present, else the first column of ``role``, else the first column."""
    for c in candidates:
        if c in roles:
            return c
    return next((c for c, r in roles.items() if role is None or r == role), next(iter(roles)))


def _defaults(roles, *, x, y, color, accuracy, cost):
    d = {"x": _pick(roles, *x, role="proxy"), "y": _pick(roles, *y, role="accuracy"),
         "accuracy": _pick(roles, *accuracy, role="accuracy"), "cost": _pick(roles, *cost, role="cost")}
    d["color"] = _pick(roles, *color, role="cost")
    d["headline"] = d["accuracy"]
    return d


# --------------------------------------------------------------------------------------------------
# NAS-Bench-201.
# --------------------------------------------------------------------------------------------------


def edge_name(edge) -> str:
    j, i = edge
    return f"{j}-{i}"


@functools.lru_cache(maxsize=1)
def _nb201_base() -> SpaceTable:
    import nwot
    from nwot.spaces.nb201.codec import EDGES, OPS, has_path, parse_arch, unique_str

    t = nwot.load_nb201_table()
    numeric = _numeric_columns(t)
    archs = [parse_arch(s) for s in t["arch"]]
    frame = t[numeric].astype(float).copy()
    frame.index = pd.Index(t.index.to_numpy(dtype=np.int64), name="index")
    frame[ARCH] = t["arch"].to_numpy()
    frame = frame.join(iso_columns([unique_str(a) for a in archs], frame.index))
    frame[HAS_PATH] = [has_path(a) for a in archs]
    frame = frame.join(op_count_columns(archs, OPS, frame.index))
    for k, e in enumerate(EDGES):
        frame[EDGE_PREFIX + edge_name(e)] = [a[k] for a in archs]
    roles = {c: guess_role(c) for c in numeric}
    return SpaceTable("nb201", SPACE_TITLES["nb201"], frame, roles, {}, "nb201", tuple(OPS),
                      tuple(edge_name(e) for e in EDGES), (), {c: "embedded NB201 table" for c in numeric})


def _nb201_arch(s: str) -> str:
    from nwot.spaces.nb201.codec import format_arch, to_arch

    return format_arch(to_arch(s))


@TABLES.register("nb201")
def nb201_table(cfg: ExploreConfig) -> Dict[str, Loaded]:
    table = _nb201_base()
    if cfg.stored_scores:
        table = add_score_files(table, [RESULTS_DIR / f for f in NB201_STORED_SCORES], arch_of=_nb201_arch,
                                required=False)
    table = add_score_files(table, cfg.scores, arch_of=_nb201_arch)
    defaults = _defaults(table.roles, x=("naswot_clean_seed0",), y=("cifar10/ori-test@200",), color=("params",),
                         accuracy=("cifar10/ori-test@200",), cost=("params",))
    return {"nb201": replace(table, defaults=defaults)}


# --------------------------------------------------------------------------------------------------
# NAS-Bench-101 (NASLib's 500 cells).
# --------------------------------------------------------------------------------------------------

NB101_ACCURACY = "cifar10/x-valid@108"


def _nb101_arch(s: str) -> str:
    from nwot.spaces.nb101.codec import encode_spec, to_spec

    return encode_spec(to_spec(s))


@TABLES.register("nb101")
def nb101_table(cfg: ExploreConfig) -> Dict[str, Loaded]:
    from nwot.adapters.nb101.benchmark import ZERO_COST_PROXIES, NASLib500
    from nwot.spaces.nb101.codec import encode_spec, prune, spec_hash

    bench = NASLib500(cfg.nb101_file)
    index = pd.RangeIndex(len(bench), name="index")
    cols = {NB101_ACCURACY: [r["val_accuracy"] for r in bench.records],
            "params": [r["params"] for r in bench.records], "flops": [r["flops"] for r in bench.records]}
    cols.update({p: [r[p] for r in bench.records] for p in ZERO_COST_PROXIES})
    frame = pd.DataFrame({k: finite_or_nan(v) for k, v in cols.items()}, index=pd.Index(index, dtype=np.int64,
                                                                                          name="index"))
    roles = {c: guess_role(c) for c in cols}
    sources = {c: str(bench.path) for c in cols}
    frame[ARCH] = [encode_spec(s) for s in bench.specs]
    frame = frame.join(iso_columns([spec_hash(s) for s in bench.specs], frame.index))
    frame[HAS_PATH] = [prune(s) is not None for s in bench.specs]
    inner = [s.ops[1:-1] for s in bench.specs]
    ops = tuple(sorted({o for cell in inner for o in cell}))
    frame = frame.join(op_count_columns(inner, ops, frame.index))
    table = SpaceTable("nb101", SPACE_TITLES["nb101"], frame, roles, {}, "nb101", ops, (), (), sources)
    if cfg.stored_scores:
        table = add_score_files(table, [RESULTS_DIR / f for f in NB101_STORED_SCORES], arch_of=_nb101_arch,
                                required=False)
    defaults = _defaults(table.roles, x=("naswot_stem16",), y=(NB101_ACCURACY,), color=("params",),
                         accuracy=(NB101_ACCURACY,), cost=("params",))
    return {"nb101": replace(table, defaults=defaults)}


# --------------------------------------------------------------------------------------------------
# NDS and NATS-SSS.
# --------------------------------------------------------------------------------------------------

NDS_HOW = ("pass --nds FILE.json (one NDS design-space file from facebookresearch/nds data.zip, e.g. DARTS.json); "
           "none are staged here")


@TABLES.register("nds")
def nds_tables(cfg: ExploreConfig) -> Dict[str, Loaded]:
    from nwot.adapters.nds import open_files

    if not cfg.nds:
        return {"nds": Unavailable("nds", SPACE_TITLES["nds"], f"no NDS files given: {NDS_HOW}")}
    out: Dict[str, Loaded] = {}
    try:
        benches = open_files(cfg.nds)
    except NwotError as e:
        return {"nds": Unavailable("nds", SPACE_TITLES["nds"], str(e))}
    for b in benches:
        name = f"nds:{b.design_space}{'_' + b.variant if b.variant else ''}"
        t = b.to_frame()
        numeric = [c for c in _numeric_columns(t) if t[c].notna().any() and c not in ("rng_seed", "job_id")]
        frame = t[numeric].astype(float)
        frame.index = pd.Index(t.index.to_numpy(dtype=np.int64), name="index")
        frame[ARCH] = t["arch"].astype(str).to_numpy()
        frame = frame.join(iso_columns(frame[ARCH], frame.index))
        frame[HAS_PATH] = True
        roles = {c: guess_role(c) for c in numeric}
        for c in ("epochs", "base_lr", "wd"):
            if c in roles:
                roles[c] = "metric"
        acc = next(c for c in numeric if c.endswith("@final"))
        defaults = _defaults(roles, x=("params",), y=(acc,), color=("flops",), accuracy=(acc,), cost=("flops",))
        title = " ".join(x for x in ("NDS", b.design_space, b.variant) if x) + f" ({len(frame):,} trained nets)"
        out[name] = SpaceTable(name, title,
                               frame, roles, defaults, "none", (), (), (), {c: str(b.location) for c in numeric})
    return out


@TABLES.register("nats-sss")
def nats_sss_table(cfg: ExploreConfig) -> Dict[str, Loaded]:
    return {"nats-sss": Unavailable("nats-sss", SPACE_TITLES["nats-sss"],
                                    "no accuracy table for NATS-Bench SSS is staged (the NATS-sss archive here has "
                                    "3 of 32,768 records and nwot embeds no SSS table); the explorer shows the space "
                                    "once such a table is available")}
