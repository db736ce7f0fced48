"""Scoring many architectures into the score store, resumably (full-space scoring).

``score_space`` asks the store what is missing, scores it in chunks and commits each chunk in its own
transaction, so an interrupted job (Ctrl-C, ``kill -9``) loses at most the chunk in flight and a
restart skips everything already stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence

from nwot.evaluators.proxy import ScoreConfig, ScoreEvaluator
from nwot.spaces.base import get_space
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey


def store_key(space: str, cfg: ScoreConfig) -> StoreKey:
    name = "naswot" if cfg.compat == "clean" else f"naswot-{cfg.compat}"
    return StoreKey(space=space, dataset=cfg.dataset, batch_seed=cfg.batch_seed, batch_size=cfg.batch_size,
                    init_seed=cfg.init_seed, score_name=name)


def space_archs(space: str, limit: Optional[int] = None) -> List[str]:
    """Encoded archs of a whole tabular space in benchmark index order (NB201: all 15,625)."""
    if space == "nb201":
        from nwot.adapters.embedded import nb201_arch_strings

        archs = list(nb201_arch_strings())
    else:
        from nwot.errors import NwotError

        raise NwotError(f"full-space enumeration is available for 'nb201'; for {space!r} pass the archs explicitly")
    return archs[:limit] if limit is not None else archs


@dataclass(frozen=True)
class ScoreJobResult:
    total: int  # archs asked for
    skipped: int  # already in the store
    scored: int  # newly scored


def score_chunk(space: str, archs: Sequence[str], cfg: ScoreConfig, data_dir=None) -> List[ScoreRow]:
    """Score encoded ``archs`` (a pure function of its arguments: used by serial and distributed backends)."""
    sp = get_space(space)
    return _score_rows(sp, ScoreEvaluator(sp, cfg, data_dir=data_dir), _index_lookup(space), archs)


def _score_rows(sp, ev: ScoreEvaluator, index_of, archs: Sequence[str]) -> List[ScoreRow]:
    rows = []
    for a in archs:
        e = ev(sp.decode(a))
        rows.append(ScoreRow(a, e.signal, e.cost, index_of(a), str(ev.device)))
    return rows


def _index_lookup(space: str) -> Callable[[str], Optional[int]]:
    if space == "nb201":
        from nwot.adapters.embedded import nb201_index_of

        return nb201_index_of
    return lambda a: None


def score_space(space: str, archs: Sequence[str], cfg: ScoreConfig, store: ScoreStore, *, chunk_size: int = 16,
                data_dir=None, progress: bool = True, backend: str = "serial", threads: Optional[int] = None,
                workers: Optional[int] = None, **backend_kwargs) -> ScoreJobResult:
    """Score every arch of ``archs`` not yet in ``store`` under ``cfg`` (see module docstring).

    The serial backend uses the whole machine: ``threads`` intra-op threads or ``workers`` processes
    (None: workers where they measured faster, by :func:`nwot.machine.parallel.parallel_plan`); scores do not
    depend on it. The Ray backend runs one thread per task (its ``num_workers`` tasks in flight).
    """
    from nwot.errors import check_choice

    check_choice("backend", backend, ("serial", "ray"))
    key = store_key(space, cfg)
    todo = store.missing(key, archs)
    skipped = len(set(archs)) - len(todo)
    if backend == "ray":
        from nwot.scores.ray_job import score_space_ray

        score_space_ray(space, todo, cfg, store, key, chunk_size=chunk_size, data_dir=data_dir, progress=progress,
                        **backend_kwargs)
        return ScoreJobResult(len(archs), skipped, len(todo))
    from tqdm import tqdm

    sp = get_space(space)
    ev = ScoreEvaluator(sp, cfg, data_dir=data_dir, threads=threads, workers=workers)
    index_of = _index_lookup(space)
    bar = tqdm(total=len(todo), desc=f"scoring {space}", unit="cell", disable=not progress)
    rows: List[ScoreRow] = []
    try:  # every core (ev.map: threads or worker processes); one transaction per chunk of results
        for a, e in zip(todo, ev.map([sp.decode(a) for a in todo])):
            rows.append(ScoreRow(a, e.signal, e.cost, index_of(a), str(ev.device)))
            bar.update(1)
            if len(rows) == chunk_size:
                store.put(key, rows)
                rows = []
        if rows:
            store.put(key, rows)
    finally:
        bar.close()
    return ScoreJobResult(len(archs), skipped, len(todo))
