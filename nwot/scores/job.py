"""Scoring many architectures into the score store, resumably (full-space scoring), serial or on Ray.

:func:`score_space` asks the store what is missing, scores it in chunks and commits each chunk in its
own transaction, so a restart skips everything already stored. An interrupted job loses nothing it
finished: on Ctrl-C (``KeyboardInterrupt``) the cells already scored in the chunk in flight are
committed before the interrupt propagates (:class:`ScoringInterrupted` says how many are stored and how to
resume); a ``kill -9`` loses at most the chunk in flight. The Ray backend (:mod:`nwot.scores.ray_job`)
runs chunks as tasks and stores them as they arrive. :func:`export_scores` writes one key of a store
in the score-file format (:mod:`nwot.scores.files`) that ``nwot search --scores`` reads;
:func:`import_scores` puts such a file back into a store.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Union

from nwot.errors import NwotError, check_choice
from nwot.scores.files import read_provenance, read_scores, write_scores
from nwot.scores.scorer import ScoreConfig, Scorer, index_lookup, store_key
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey, store_scores
from nwot.spaces.base import get_space

BACKENDS = ("serial", "ray")


@dataclass(frozen=True)
class ScoringSummary:
    """What one :func:`score_space` call did."""

    total: int  # distinct archs asked for
    skipped: int  # already in the store
    scored: int  # newly scored and stored


class ScoringInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`score_space`; everything scored before it is stored (``stored``)."""

    def __init__(self, stored: int, remaining: int) -> None:
        super().__init__(f"interrupted: {stored} newly scored cells are stored, {remaining} remain; run the same "
                         f"command again to resume")
        self.stored, self.remaining = stored, remaining


def score_space(space: str, archs: Sequence[str], cfg: ScoreConfig, store: ScoreStore, *, chunk_size: int = 16,
                data_dir=None, progress: bool = True, backend: str = "serial", threads: Optional[int] = None,
                workers: Optional[int] = None, **backend_kwargs: Any) -> ScoringSummary:
    """Score every arch of ``archs`` (encoded) not yet in ``store`` under ``cfg`` (see the module docstring).

    The serial backend uses the whole machine: ``threads`` intra-op threads or ``workers`` processes
    (None: workers where they measured faster, :func:`nwot.scores.parallel.parallel_plan`); scores do not
    depend on it. The Ray backend runs one thread per task (its ``num_workers`` tasks in flight).
    """
    check_choice("backend", backend, BACKENDS)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise NwotError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    key = store_key(space, cfg)
    todo = store.missing(key, archs)
    skipped = len(set(archs)) - len(todo)
    if backend == "ray":
        from nwot.scores.ray_job import score_space_ray

        score_space_ray(space, todo, cfg, store, key, chunk_size=chunk_size, data_dir=data_dir, progress=progress,
                        **backend_kwargs)
        return ScoringSummary(len(set(archs)), skipped, len(todo))
    if backend_kwargs:
        raise NwotError(f"the serial backend takes no {', '.join(sorted(backend_kwargs))} (those are Ray options)")
    from tqdm import tqdm

    sp = get_space(space)
    scorer = Scorer(sp, cfg, data_dir=data_dir, threads=threads, workers=workers)
    index_of = index_lookup(space)
    stored = 0
    rows: List[ScoreRow] = []
    device = str(scorer.device)
    with tqdm(total=len(todo), desc=f"scoring {space}", unit="cell", disable=not progress, mininterval=1.0) as bar:
        results = scorer.map_timed([sp.decode(a) for a in todo])  # every core: threads or worker processes
        try:
            for a, (s, dt) in zip(todo, results):
                rows.append(ScoreRow(a, s, dt, index_of(a), device))
                bar.update(1)
                if len(rows) == chunk_size:  # one transaction per chunk of results
                    stored += store.put(key, rows)
                    rows = []
        except KeyboardInterrupt:
            stored += store.put(key, rows)
            raise ScoringInterrupted(stored, len(todo) - stored) from None
        finally:
            results.close()  # stops worker processes
        stored += store.put(key, rows)
    return ScoringSummary(len(set(archs)), skipped, len(todo))


def export_scores(store: ScoreStore, space: str, cfg: ScoreConfig, path: Union[str, Path],
                  provenance: Optional[Mapping[str, Any]] = None) -> int:
    """Write the stored scores of ``(space, cfg)`` to ``path`` in the score-file format; returns the rows written.

    The sidecar ``<path>.json`` records the store key and ``provenance`` (e.g. the command and machine).
    """
    return export_key(store, store_key(space, cfg), path, provenance)


def export_key(store: ScoreStore, key: StoreKey, path: Union[str, Path],
               provenance: Optional[Mapping[str, Any]] = None) -> int:
    """:func:`export_scores` of one store key: the score file, and ``{"key", "cells", **provenance}`` beside it."""
    df = store_scores(store, key)
    if df.empty:
        raise NwotError(f"the store {store.path} holds no scores of {key}; nothing to export")
    if df["index"].isna().any():
        raise NwotError(f"space {key.space!r} has no benchmark index, so its scores cannot go to a score file")
    df["index"] = df["index"].astype(int)
    write_scores(df, path, {"key": asdict(key), "cells": len(df), **dict(provenance or {})})
    return len(df)


def import_scores(store: ScoreStore, key: StoreKey, path: Union[str, Path]) -> int:
    """Put the rows of a score file back into ``store`` under ``key`` (e.g. a committed export into a fresh
    store, so a scoring job resumes instead of starting over). Only a file whose sidecar records exactly
    ``key`` is used (else 0 rows); rows already stored are kept. Returns the rows added."""
    prov = read_provenance(path) if Path(path).is_file() else None
    if prov is None or prov.get("key") != asdict(key):
        return 0
    df = read_scores(path)
    device = (prov.get("devices") or [None])[0]
    rows = [ScoreRow(a, float(v), float(t), int(i), device)
            for i, a, v, t in zip(df.index, df["arch"], df["score"], df["seconds"])]
    return store.put(key, rows)
