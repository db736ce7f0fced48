"""NASWOT scores looked up from a stored full-space score file, as a search evaluator.

The file (written by the full-space scoring job) is a CSV, optionally compressed (``.gz``, ``.xz``,
``.bz2``, ``.zip``: inferred from the suffix), with at least the columns

* ``index``   -- benchmark index of the cell (NB201: 0..15624);
* ``score``   -- NASWOT ``log|det K_H|`` (Mellor et al., ICML 2021, §3, Eq. 2); ``-inf`` = singular kernel;
* ``seconds`` -- measured wall seconds of building + scoring that cell.

The evaluator charges ``seconds`` as the cost, so a training-free search pays what the scoring really
took, on the same budget as table lookups of simulated training time.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import pandas as pd

from nwot.errors import BenchmarkFileError, NwotError
from nwot.evaluators.base import Evaluation
from nwot.spaces.base import Arch, SearchSpace

SCORE_COLUMNS = ("index", "score", "seconds")
#: Exact float parsing: the default from pandas 3 on (where the option is deprecated), opt-in before.
_ROUND_TRIP = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def load_score_file(path: Union[str, Path]) -> pd.DataFrame:
    """Read and validate a score file; returns a frame indexed by ``index`` with ``score`` and ``seconds``."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise BenchmarkFileError(f"NASWOT score file not found: {path} (CSV with columns {', '.join(SCORE_COLUMNS)}, "
                                 f"written by the full-space scoring job)")
    try:
        df = pd.read_csv(path, **_ROUND_TRIP)
    except (OSError, EOFError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as e:
        raise BenchmarkFileError(f"NASWOT score file {path} is unreadable ({type(e).__name__}: {e})") from e
    missing = [c for c in SCORE_COLUMNS if c not in df.columns]
    if missing:
        raise BenchmarkFileError(f"NASWOT score file {path} lacks column(s) {', '.join(missing)}; it has "
                                 f"{', '.join(map(str, df.columns))}; needed: {', '.join(SCORE_COLUMNS)}")
    if len(df) == 0:
        raise BenchmarkFileError(f"NASWOT score file {path} has no rows")
    if not pd.api.types.is_integer_dtype(df["index"]):
        raise BenchmarkFileError(f"NASWOT score file {path}: column 'index' must hold integers")
    if df["index"].duplicated().any():
        dup = df.loc[df["index"].duplicated(), "index"].iloc[0]
        raise BenchmarkFileError(f"NASWOT score file {path}: index {dup} appears more than once")
    for c in ("score", "seconds"):
        if not pd.api.types.is_float_dtype(df[c]) and not pd.api.types.is_integer_dtype(df[c]):
            raise BenchmarkFileError(f"NASWOT score file {path}: column {c!r} must be numeric")
    if df["score"].isna().any() or (df["score"] == math.inf).any():
        bad = df.loc[df["score"].isna() | (df["score"] == math.inf), "index"].iloc[0]
        raise BenchmarkFileError(f"NASWOT score file {path}: score of index {bad} is NaN/+inf (allowed: finite or -inf)")
    secs = df["seconds"].to_numpy(dtype=float)
    if not np.isfinite(secs).all() or (secs < 0).any():
        bad = df.loc[~np.isfinite(secs) | (secs < 0), "index"].iloc[0]
        raise BenchmarkFileError(f"NASWOT score file {path}: seconds of index {bad} must be finite and >= 0")
    return df.set_index("index")[["score", "seconds"]].astype(float)


class StoredScoreEvaluator:
    """Evaluator: ``arch -> Evaluation(stored NASWOT score, its recorded wall seconds)``.

    ``index_of`` maps an arch to its benchmark index (e.g. ``lambda a: bench.index_of(space.encode(a))``,
    see :meth:`for_benchmark`).
    """

    def __init__(self, scores: Union[str, Path, pd.DataFrame], index_of: Callable[[Arch], int], *,
                 source: Optional[str] = None) -> None:
        if isinstance(scores, pd.DataFrame):
            frame, self.source = scores, source or "<DataFrame>"
        else:
            frame, self.source = load_score_file(scores), source or str(scores)
        self.index_of = index_of
        self._score: Dict[int, float] = dict(zip(map(int, frame.index), frame["score"].astype(float)))
        self._seconds: Dict[int, float] = dict(zip(map(int, frame.index), frame["seconds"].astype(float)))

    @classmethod
    def for_benchmark(cls, scores: Union[str, Path, pd.DataFrame], benchmark, space: SearchSpace) -> "StoredScoreEvaluator":
        return cls(scores, lambda a: benchmark.index_of(space.encode(a)), source=None)

    def __len__(self) -> int:
        return len(self._score)

    def __call__(self, arch: Arch) -> Evaluation:
        i = int(self.index_of(arch))
        if i not in self._score:
            raise NwotError(f"arch {arch!r} (index {i}) has no NASWOT score in {self.source}, which covers "
                            f"{len(self._score)} indices")
        return Evaluation(signal=self._score[i], cost=self._seconds[i], info={"index": i, "score": self._score[i]})

    def config(self) -> Dict[str, Any]:
        return {"evaluator": "stored_score", "scores": self.source, "n_scores": len(self._score)}
