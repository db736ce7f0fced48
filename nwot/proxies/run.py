"""``score_proxies``: several proxies on one freshly built network and one batch, sharing their passes."""
from __future__ import annotations

import math
import time
from typing import Callable, Dict, Iterable, Mapping, Optional, Union

import torch
import torch.nn as nn

from nwot.errors import NwotError
from nwot.proxies.base import Batch, ProxyFailure, ProxyResult, Status, get_proxy, list_proxies
from nwot.proxies.context import DeviceLike, ScoringContext


def resolve_names(names: Union[str, Iterable[str]]) -> list:
    """``"all"`` -> every registered proxy; ``"a,b"`` or an iterable -> those names, checked."""
    if isinstance(names, str):
        names = list_proxies() if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    names = list(names)
    if not names:
        raise NwotError("no proxy names given")
    for n in names:
        get_proxy(n)  # raises, listing the known names
    return names


def score_proxies(build_model: Callable[[], nn.Module], batch: Batch, names: Union[str, Iterable[str]] = "all", *,
                  mode: str = "clean", device: DeviceLike = None, seed: int = 0,
                  context: Optional[ScoringContext] = None,
                  batch_sizes: Optional[Mapping[str, int]] = None) -> Dict[str, ProxyResult]:
    """Score ``names`` on the network ``build_model()`` returns, with the shared passes computed once.

    ``build_model()`` must return a freshly built (seeded) untrained network each call: proxies that
    alter weights (synflow's ``|θ|``, float64, re-inits) work on a new copy, every other proxy reads one
    shared copy, and none changes it. ``mode`` is ``"clean"`` or ``"reference"``; a proxy without a
    reference mode is scored clean (its result's ``config`` says which). ``seed`` seeds the proxies' own
    randomness (Gaussian inputs, Rademacher vectors, re-inits) through ``torch.Generator``\\ s.
    ``batch_sizes`` (name -> n) scores a proxy that takes one image batch on its first ``n`` images
    instead of its paper's batch (e.g. NASLib's 32 for naswot); the config id records it.

    Returns name -> :class:`ProxyResult`. A proxy that fails records its status and reason (NaN value,
    or its documented sentinel) and the others still run; nothing is ever scored 0 on a failure.
    """
    names = resolve_names(names)
    unknown = set(batch_sizes or ()) - set(names)
    if unknown:
        raise NwotError(f"batch_sizes names proxies not being scored: {sorted(unknown)}; scoring {names}")
    ctx = context or ScoringContext(build_model, batch, device=device, seed=seed)
    out: Dict[str, ProxyResult] = {}
    for name in names:
        proxy = get_proxy(name)
        if batch_sizes and name in batch_sizes:
            proxy.set_batch_size(batch_sizes[name])
        m = proxy.resolve_mode(mode)
        cfg = proxy.config_id(m)
        t0 = time.perf_counter()
        try:
            with torch.random.fork_rng(devices=[]):
                v = float(proxy.compute(ctx, m))
            if not math.isfinite(v) and v not in proxy.sentinels:
                out[name] = ProxyResult(name, v, Status.NAN, f"{name} is {v}", time.perf_counter() - t0, cfg)
            else:
                out[name] = ProxyResult(name, v, Status.OK, "", time.perf_counter() - t0, cfg)
        except ProxyFailure as e:
            out[name] = ProxyResult(name, e.value, e.status, e.reason, time.perf_counter() - t0, cfg)
        except (RuntimeError, ValueError, ArithmeticError, torch.linalg.LinAlgError, NwotError) as e:
            out[name] = ProxyResult(name, math.nan, Status.ERROR, f"{type(e).__name__}: {e}",
                                    time.perf_counter() - t0, cfg)
    return out
