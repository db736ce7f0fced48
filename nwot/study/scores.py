"""Stored NASWOT scores as the studies read them: score files, the score store, the committed exports.

Every read goes through the one score-file reader (:func:`nwot.scores.files.read_scores`) or the score
store (:class:`nwot.scores.store.ScoreStore`) under the key built by :func:`nwot.scores.scorer.store_key`,
so a study sees exactly the numbers ``nwot search --scores`` sees. A score is NASWOT's
``s = log|det K_H|`` (Mellor et al., ICML 2021, §3), ``-inf`` for a singular kernel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional, Tuple

import pandas as pd

from nwot.errors import BenchmarkFileError
from nwot.scores.files import read_scores

#: The sensitivity study's settings (paper §5 ablations) on 500 seeded random cells (``random_cells(500, 0)``).
SENS_BATCH_SEEDS = SENS_INIT_SEEDS = (0, 1, 2, 3, 4)
SENS_BATCH_SIZES = (32, 64, 128, 256)
SENS_CELLS = 500


def load_scores(path) -> pd.DataFrame:
    """A score file (:mod:`nwot.scores.files`) as a frame indexed by NB201 index: ``arch, score, seconds``."""
    return read_scores(path)[["arch", "score", "seconds"]]


def store_config(dataset: str = "cifar10", batch_size: int = 128, batch_seed: int = 0, init_seed: int = 0,
                 compat: str = "clean"):
    """The :class:`~nwot.scores.scorer.ScoreConfig` of one key of the NB201 scores."""
    from nwot.scores.scorer import ScoreConfig

    return ScoreConfig(dataset=dataset, batch_size=batch_size, batch_seed=batch_seed, init_seed=init_seed,
                       compat=compat)


def load_store_scores(store_path, *, dataset: str = "cifar10", batch_size: int = 128, batch_seed: int = 0,
                      init_seed: int = 0, compat: str = "clean") -> pd.DataFrame:
    """The NB201 scores of one key of a SQLite score store, in :func:`load_scores`' layout."""
    from nwot.scores.scorer import store_key
    from nwot.scores.store import ScoreStore, store_scores

    if not Path(store_path).is_file():
        raise BenchmarkFileError(f"score store {store_path} not found; fill it with benchmarks/score_nb201.py")
    key = store_key("nb201", store_config(dataset, batch_size, batch_seed, init_seed, compat))
    with ScoreStore(store_path) as st:
        df = store_scores(st, key)
    return df.set_index("index").sort_index()[["arch", "score", "seconds"]]


def export_path(results: Path, dataset: str, compat: str) -> Path:
    """The committed export of one mode: ``nb201_<dataset>_naswot_<compat>_seed0.csv.xz``."""
    return Path(results) / f"nb201_{dataset}_naswot_{compat}_seed0.csv.xz"


def sensitivity_path(results: Path, dataset: str) -> Path:
    """The committed sensitivity scores (long format): ``nb201_<dataset>_naswot_sensitivity.csv.xz``."""
    return Path(results) / f"nb201_{dataset}_naswot_sensitivity.csv.xz"


def sensitivity_keys() -> Iterable[Tuple[int, int, int]]:
    """``(batch_seed, init_seed, batch_size)`` of every sensitivity score set, sorted."""
    keys = {(s, 0, 128) for s in SENS_BATCH_SEEDS} | {(0, s, 128) for s in SENS_INIT_SEEDS} | \
           {(0, 0, b) for b in SENS_BATCH_SIZES}
    return sorted(keys)


class StoredScores:
    """NB201 scores by (compat, batch seed, init seed, batch size), from the score store (``source="store"``)
    or from the committed exports in ``results`` (``source="exports"``: the seeds-0 batch-128 exports of
    each mode, and the clean sensitivity file for the other seeds and sizes). A key that is not stored
    gives an empty series."""

    def __init__(self, source: str, dataset: str, store: Optional[Path], results: Path) -> None:
        from nwot.errors import check_choice

        check_choice("score source", source, ("store", "exports"))
        self.source, self.dataset, self.store, self.results = source, dataset, store, Path(results)
        self._sens: Optional[pd.DataFrame] = None

    def get(self, compat: str = "clean", batch_seed: int = 0, init_seed: int = 0, batch_size: int = 128) -> pd.Series:
        if self.source == "store":
            return load_store_scores(self.store, dataset=self.dataset, batch_size=batch_size, batch_seed=batch_seed,
                                     init_seed=init_seed, compat=compat)["score"]
        export = export_path(self.results, self.dataset, compat)
        if (batch_seed, init_seed, batch_size) == (0, 0, 128) and export.is_file():
            return load_scores(export)["score"]
        sens = sensitivity_path(self.results, self.dataset)
        if compat != "clean" or not sens.is_file():
            return pd.Series(dtype=float)
        if self._sens is None:
            self._sens = pd.read_csv(sens)
        s = self._sens
        m = (s.batch_seed == batch_seed) & (s.init_seed == init_seed) & (s.batch_size == batch_size)
        return s[m].set_index("index")["score"].sort_index()


def export_sensitivity(scores: StoredScores, path) -> int:
    """Write the sensitivity runs' clean scores of the 500 random cells (long format: ``index, batch_seed,
    init_seed, batch_size, score``) to ``path``; returns the rows written."""
    from nwot.study.cells import random_cells

    cells = set(random_cells(SENS_CELLS, seed=0))
    frames = []
    for bseed, iseed, bsize in sensitivity_keys():
        s = scores.get(batch_seed=bseed, init_seed=iseed, batch_size=bsize)
        s = s[s.index.isin(cells)]
        frames.append(pd.DataFrame({"index": s.index, "batch_seed": bseed, "init_seed": iseed,
                                    "batch_size": bsize, "score": s.to_numpy()}))
    df = pd.concat(frames, ignore_index=True)
    df.to_csv(path, index=False)
    return len(df)


def export_store_key(store, key, path, command: str, threads: int) -> dict:
    """Export one key of a score store to a score file (:func:`nwot.scores.job.export_key`) with the study's
    provenance beside it: command, time, git state, machine, threads, devices, singular count and timing
    (the seconds of building + scoring each cell). Returns the sidecar's content."""
    import datetime

    import torch

    from nwot.scores.job import export_key
    from nwot.study.cells import NB201_CELLS
    from nwot.study.provenance import git_state, machine

    df = store.to_frame(key)
    sec = df["seconds"]
    meta = {
        "command": command,
        "exported": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "complete": bool(len(df) == NB201_CELLS),
        "singular": int((df["value"] == float("-inf")).sum()),
        "git": git_state(), "machine": machine(), "torch": torch.__version__, "torch_threads": threads,
        "devices": sorted(df["device"].dropna().unique().tolist()),
        "timing": {"seconds_per_score_mean": float(sec.mean()) if len(sec) else None,
                   "seconds_per_score_median": float(sec.median()) if len(sec) else None,
                   "seconds_total": float(sec.sum()),
                   "wall_span_seconds": float(df["created"].max() - df["created"].min()) if len(df) else None,
                   "note": "seconds = wall time to build + score one cell (shared 2-core machine, nice 5)"},
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cells = export_key(store, key, path, meta)
    from dataclasses import asdict

    return {"key": asdict(key), "cells": cells, **meta}
