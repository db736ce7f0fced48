"""The one file format for stored scores: what ``nwot score-space --export`` writes and what
``nwot search --scores``, the studies, the notebooks and the explorer read (STYLE habit 14).

A score file is a CSV, optionally compressed (``.gz``, ``.xz``, ``.bz2``, ``.zip``: from the suffix),
holding one score configuration (one proxy, mode, dataset, batch and seeds) with the columns

* ``index``   -- benchmark index of the cell (NB201: 0..15624), unique;
* ``arch``    -- the space's encoding of the cell (NB201 arch string);
* ``score``   -- the score (NASWOT ``log|det K_H|``, Mellor et al., ICML 2021, §3); ``-inf`` = singular kernel;
* ``seconds`` -- measured wall seconds of building + scoring that cell;
* ``status``  -- optional: ``ok``, or why the score failed (then ``score`` is NaN), e.g. ``nan``, ``error``.

What configuration made the file goes beside it, in ``<file>.json`` (e.g. ``scores.csv.xz.json``)
(command, commit, machine, the score configuration), written by :func:`write_scores`.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
import pandas as pd

from nwot.errors import BenchmarkFileError

COLUMNS = ("index", "arch", "score", "seconds")
#: Exact float parsing: the default from pandas 3 on (where the option is deprecated), opt-in before.
_ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def provenance_path(path: Union[str, Path]) -> Path:
    """The sidecar JSON of a score file: ``scores.csv.xz`` -> ``scores.csv.xz.json``."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def read_scores(path: Union[str, Path]) -> pd.DataFrame:
    """Read and validate a score file: a frame indexed by ``index`` (sorted) with ``arch``, ``score``,
    ``seconds`` (and ``status`` when present). Every problem raises :class:`BenchmarkFileError` naming the
    file, the row and what is allowed."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BenchmarkFileError(f"score file not found: {path} (CSV with columns {', '.join(COLUMNS)}, written by "
                                 f"`nwot score-space --export`)")
    try:
        df = pd.read_csv(path, **_ROUND_TRIP)
    except (OSError, EOFError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise BenchmarkFileError(f"score file {path} is unreadable ({type(e).__name__}: {e})") from e
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        hint = (" (this looks like a raw store dump: re-export it with `nwot score-space --export`)"
                if {"arch_index", "value"} <= set(df.columns) else "")
        raise BenchmarkFileError(f"score file {path} lacks column(s) {', '.join(missing)}; it has "
                                 f"{', '.join(map(str, df.columns))}; needed: {', '.join(COLUMNS)}{hint}")
    if len(df) == 0:
        raise BenchmarkFileError(f"score file {path} has no rows")
    if not pd.api.types.is_integer_dtype(df["index"]):
        raise BenchmarkFileError(f"score file {path}: column 'index' must hold integers")
    if df["index"].duplicated().any():
        dup = df.loc[df["index"].duplicated(), "index"].iloc[0]
        raise BenchmarkFileError(f"score file {path}: index {dup} appears more than once (duplicated indices)")
    for c in ("score", "seconds"):
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise BenchmarkFileError(f"score file {path}: column {c!r} must be numeric")
    failed = df["status"].fillna("ok").astype(str) != "ok" if "status" in df.columns else pd.Series(False, df.index)
    bad = (df["score"].isna() & ~failed) | (df["score"] == math.inf)
    if bad.any():
        raise BenchmarkFileError(f"score file {path}: score of index {df.loc[bad, 'index'].iloc[0]} is NaN/+inf "
                                 f"(allowed: finite or -inf; NaN only with a status naming the failure)")
    secs = df["seconds"].to_numpy(dtype=float)
    if not np.isfinite(secs).all() or (secs < 0).any():
        i = df.loc[~np.isfinite(secs) | (secs < 0), "index"].iloc[0]
        raise BenchmarkFileError(f"score file {path}: seconds of index {i} must be finite and >= 0")
    cols = ["arch", "score", "seconds"] + (["status"] if "status" in df.columns else [])
    out = df.set_index("index").sort_index()[cols]
    out["score"] = out["score"].astype(float)
    out["seconds"] = out["seconds"].astype(float)
    return out


def read_provenance(path: Union[str, Path]) -> Optional[Dict[str, Any]]:
    """The sidecar JSON of a score file, or None when there is none."""
    side = provenance_path(path)
    if not side.is_file():
        return None
    try:
        return json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise BenchmarkFileError(f"provenance file {side} of {path} is unreadable ({e})") from e


def write_scores(frame: pd.DataFrame, path: Union[str, Path], provenance: Optional[Mapping[str, Any]] = None) -> Path:
    """Write ``frame`` (columns or index ``index``, and ``arch``, ``score``, ``seconds`` [, ``status``]) in the
    score-file format, sorted by index; ``provenance`` goes to the sidecar JSON. Returns the path."""
    df = frame.reset_index() if "index" not in frame.columns else frame.copy()
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise BenchmarkFileError(f"cannot write a score file without column(s) {', '.join(missing)}")
    cols = list(COLUMNS) + (["status"] if "status" in df.columns else [])
    df = df[cols].sort_values("index")
    path = Path(path).expanduser()
    df.to_csv(path, index=False)
    if provenance is not None:
        provenance_path(path).write_text(json.dumps(dict(provenance), indent=1, sort_keys=True, default=str) + "\n")
    return path
