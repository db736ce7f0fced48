"""The resumable proxy scoring job: cells x proxy configurations into the score store, one transaction per cell.

Each built cell is scored by every requested proxy configuration still missing for it, with one shared
:class:`nwot.proxies.context.ScoringContext` per mode (one cross-entropy pass serves snip, grad_norm, plain,
fisher, grasp...), and all of that cell's results are committed before the next cell starts: a killed job loses at
most the cell in flight, and a re-run skips everything stored. Failures are stored with their status (nan, singular,
no_path, error) and reason, never as 0. Keys come only from :func:`nwot.scores.proxy_store.proxy_key`, so two
configurations never share one (``benchmarks/score_proxies_nb201.py`` and ``nwot score-space --proxies``
both run this job).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from nwot.errors import check_choice
from nwot.proxies.base import MODES, get_proxy
from nwot.scores.proxy_store import DEFAULT_BATCH_IMAGES, labelled_batch, proxy_key
from nwot.scores.store import ScoreRow, ScoreStore, StoreKey


@dataclass(frozen=True)
class ProxyJob:
    """One proxy configuration to score: the proxy's name, its resolved mode and its store key."""

    name: str
    mode: str
    key: StoreKey


@dataclass(frozen=True)
class ProxyJobResult:
    cells: int  # cells asked for
    pending: int  # cells that had work
    scored: int  # cells scored by this call
    configs: int  # proxy configurations


def proxy_jobs(space: str, dataset: str, names: Sequence[str], modes: Sequence[str], batch_seed: int, init_seed: int,
               batch_sizes: Optional[Mapping[str, int]] = None) -> List[ProxyJob]:
    """One :class:`ProxyJob` per distinct configuration of ``names`` x ``modes`` (a proxy without a reference
    mode is scored once, clean); ``batch_sizes`` (name -> n) overrides a paper batch."""
    out, seen = [], set()
    for m in modes:
        check_choice("mode", m, MODES)
    for name in names:
        for mode in modes:
            p = get_proxy(name)
            if batch_sizes and name in batch_sizes:
                p.set_batch_size(batch_sizes[name])
            m = p.resolve_mode(mode)
            key = proxy_key(space, dataset, batch_seed, init_seed, p, m)
            if key.score_name not in seen:
                seen.add(key.score_name)
                out.append(ProxyJob(name, m, key))
    return out


def score_proxy_cells(store: ScoreStore, cells: Sequence[Tuple[int, str]], build: Callable[[str], object],
                      jobs: Sequence[ProxyJob], *, dataset: str = "cifar10", batch_seed: int = 0,
                      batch_sizes: Optional[Mapping[str, int]] = None, device: str = "cpu",
                      batch_images: int = DEFAULT_BATCH_IMAGES, data_dir=None, num_classes: int = 10,
                      progress: bool = False) -> ProxyJobResult:
    """Score ``cells`` (``(index, arch string)``) with ``jobs`` into ``store``; resumable (see the module).

    ``build(arch)`` returns a freshly built, seeded, untrained network each call (the caller owns the init
    seed). The batch is :func:`labelled_batch` of ``batch_seed``; the proxies' own randomness is seeded by
    ``batch_seed`` too (:func:`nwot.proxies.score_proxies`)."""
    from tqdm import tqdm

    from nwot.proxies.run import score_proxies

    done: Dict[str, set] = {j.key.score_name: store.done(j.key) for j in jobs}
    pending = [(c, a) for c, a in cells if any(a not in done[j.key.score_name] for j in jobs)]
    if not pending:
        return ProxyJobResult(len(cells), 0, 0, len(jobs))
    batch = labelled_batch(dataset, batch_images, batch_seed, data_dir=data_dir, num_classes=num_classes)
    scored = 0
    bar = tqdm(pending, unit="cell", disable=not progress, mininterval=10)
    for c, arch in bar:
        want = [j for j in jobs if arch not in done[j.key.score_name]]
        rows = []
        for mode in sorted({j.mode for j in want}):
            sel = [j for j in want if j.mode == mode]
            bs = {j.name: j.key.batch_size for j in sel if batch_sizes and j.name in batch_sizes}
            res = score_proxies(lambda a=arch: build(a), batch, [j.name for j in sel], mode=mode, seed=batch_seed,
                                batch_sizes=bs or None)
            for j in sel:
                r = res[j.name]
                if r.config != j.key.score_name:
                    raise RuntimeError(f"config mismatch for {j.name}: {r.config} != {j.key.score_name}")
                rows.append((j.key, ScoreRow(arch, r.value, r.seconds, c, device, r.status.value, r.reason or None)))
        for k in {k.score_name: k for k, _ in rows}.values():
            store.put(k, [row for kk, row in rows if kk.score_name == k.score_name])
        for k, _ in rows:
            done[k.score_name].add(arch)
        scored += 1
    bar.close()
    return ProxyJobResult(len(cells), len(pending), scored, len(jobs))
