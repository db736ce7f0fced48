"""Conveniences over the library: score one architecture, run the NASWOT search (what the CLI's
``nwot score`` and ``nwot search`` call by default).

>>> import nwot
>>> r = nwot.score_arch(6111)                  # NB201 index, arch string or op vector
>>> rep = nwot.naswot_search(n=100, runs=5)      # NASWOT search on NB201 CIFAR-10 (embedded data)
>>> rep.to_frame()
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Optional

from nwot.adapters.base import get_benchmark
from nwot.errors import NwotError
from nwot.evaluators.proxy import ProxyEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.search.loop import Budget, SearchReport, SearchResult, TraceRow
from nwot.search.run import DEFAULT_BENCHMARK, proxy_setup
from nwot.spaces.base import get_space


@dataclass(frozen=True)
class ScoreResult:
    """One architecture's score."""

    arch: str  # encoded architecture
    index: Optional[int]  # benchmark index when the space has a benchmark (NB201)
    score: float  # NASWOT log|det K_H| (-inf: singular kernel)
    seconds: float  # wall time: build + score
    test_accuracy: Optional[float]  # the benchmark's 200-epoch test accuracy (seed mean) when known
    config: Dict[str, Any] = field(default_factory=dict)


def score_arch(arch: Any, *, space: str = "nb201", dataset: str = "cifar10", batch_size: int = 128, seed: int = 0,
               init_seed: Optional[int] = None, compat: str = "clean", device: Optional[str] = None,
               data_dir=None) -> ScoreResult:
    """NASWOT score of one untrained network (Mellor et al., ICML 2021, §3).

    ``seed`` picks the scoring batch; ``init_seed`` (default: ``seed``) the network initialisation.
    On a space with a benchmark (NB201: the embedded table), ``arch`` may be an index, an arch string or
    an op vector (``"4,2,1,2,1,1"`` or ``(4, 2, 1, 2, 1, 1)``), and the benchmark's test accuracy is
    returned alongside.
    """
    sp = get_space(space)
    cfg = ScoreConfig(dataset=dataset, batch_size=batch_size, batch_seed=seed,
                      init_seed=seed if init_seed is None else init_seed, compat=compat, device=device)
    bench_name = DEFAULT_BENCHMARK.get(space)
    index = acc = None
    if bench_name is not None:
        bench = get_benchmark(bench_name)
        index = bench.index_of(parse_arch_text(arch))
        a = sp.decode(bench.arch(index))
    else:
        a = sp.decode(arch) if isinstance(arch, str) else arch
    ev = ProxyEvaluator(sp, cfg, data_dir=data_dir)(a)
    if index is not None:
        acc = bench.query(index, dataset, bench.full_hp).test_accuracy
    return ScoreResult(sp.encode(a), index, ev.signal, ev.cost, acc, asdict(cfg))


def parse_arch_text(arch: Any) -> Any:
    """CLI-style arch text: ``"6111"`` -> index, ``"4,2,1,2,1,1"`` -> op-id vector, else unchanged."""
    if not isinstance(arch, str):
        return arch
    text = arch.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    parts = [p.strip() for p in text.strip("()[]").split(",")]
    if len(parts) > 1 and all(p.lstrip("-").isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return text


def naswot_search(*, space: str = "nb201", dataset: str = "cifar10", n: int = 100, runs: int = 1, seed: int = 0,
                  batch_size: int = 128, compat: str = "clean", device: Optional[str] = None, data_dir=None,
                  progress: Optional[Callable[[TraceRow], None]] = None,
                  on_result: Optional[Callable[[SearchResult], None]] = None, threads: Optional[int] = None,
                  workers: Optional[int] = None) -> SearchReport:
    """NASWOT search (Mellor et al. §4, Table 2): per run, sample ``n`` cells uniformly with replacement,
    score each on one batch, keep the highest score.

    Run ``r`` uses seed ``seed + r`` for the sample, the scoring batch and the initialisation; costs are
    measured wall seconds (build + score) of each cell. The ``n`` cells of a run are scored with every
    core (``threads`` intra-op threads or ``workers`` processes; None: what measured faster on this
    machine, see ``nwot info``), which changes no score; each result's config records the plan.
    ``on_result`` is called with each finished run.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise NwotError(f"n (cells sampled per run) must be an int >= 1, got {n!r}")
    setup = proxy_setup(space, dataset, score_config={"batch_size": batch_size, "compat": compat, "device": device},
                        data_dir=data_dir, threads=threads, workers=workers)
    return setup.run("naswot", Budget(evaluations=n), runs=runs, seed=seed, options={"n": n}, progress=progress,
                     on_result=on_result)


def score_arch_proxies(arch: Any, proxies: Any = "all", *, space: str = "nb201", dataset: str = "cifar10",
                       batch_size: int = 128, seed: int = 0, init_seed: Optional[int] = None, mode: str = "clean",
                       device: Optional[str] = None, data_dir=None) -> Dict[str, Any]:
    """Zero-cost proxies (``"all"``, ``"synflow,snip"`` or a list) on one untrained network, with the shared
    passes computed once (:func:`nwot.proxies.score_proxies`).

    The batch is :func:`nwot.scores.proxy_store.labelled_batch` (``batch_size`` images of ``seed`` with their
    labels; each proxy takes its paper's part of it), the network ``space.build(arch)`` under
    ``nwot.torch_seed(init_seed)`` (default ``seed``), exactly as the proxy store's scoring job. Returns
    name -> :class:`nwot.proxies.base.ProxyResult`; an unknown name raises, listing the known ones.
    """
    from nwot.data.datasets import DATASETS
    from nwot.proxies.run import resolve_names, score_proxies
    from nwot.scores.proxy_store import labelled_batch
    from nwot.seeding import torch_seed

    names = resolve_names(proxies)  # before any work: a bad name fails fast
    sp = get_space(space)
    bench_name = DEFAULT_BENCHMARK.get(space)
    if bench_name is not None:
        bench = get_benchmark(bench_name)
        a = sp.decode(bench.arch(bench.index_of(parse_arch_text(arch))))
    else:
        a = sp.decode(arch) if isinstance(arch, str) else arch
    if dataset not in DATASETS:
        raise NwotError(f"unknown dataset {dataset!r}; allowed: {', '.join(map(repr, DATASETS))}")
    n_cls = DATASETS[dataset].num_classes
    batch = labelled_batch(dataset, batch_size, seed, data_dir=data_dir, num_classes=n_cls)
    ins = seed if init_seed is None else init_seed

    def build():
        with torch_seed(ins):
            return sp.build(a, num_classes=n_cls)

    return score_proxies(build, batch, names, mode=mode, device=device, seed=seed)


def proxy_correlations(scores, proxies: Any = None, *, accuracy: str = "cifar10/ori-test@200", draws: int = 1000,
                       seed: int = 0) -> list:
    """The per-proxy correlation table (:func:`nwot.study.proxy_correlations.correlation_table`) of a proxy store
    (``.sqlite``, every current config at seeds 0) or a wide export (``.csv`` / ``.csv.xz`` with its provenance
    JSON), against the embedded NB201 table's ``accuracy`` column. Each proxy is evaluated on the cells it has
    stored; ``proxies`` (comma list / list of column labels, e.g. ``"snip,naswot@bs32"``) keeps only those.
    Returns :class:`nwot.study.proxy_correlations.CorrelationRow` s, best Kendall tau first."""
    from pathlib import Path

    from nwot.adapters.embedded import load_nb201_table
    from nwot.study.proxy_correlations import columns_from_configs, correlation_table
    from nwot.study.proxy_study import load_study_data

    path = Path(scores)
    if not path.is_file():
        raise NwotError(f"score file {str(path)!r} does not exist (a proxy store .sqlite or a wide export .csv[.xz])")
    data = load_study_data(path)
    cols = columns_from_configs(data.configs)
    if proxies is not None:
        want = [p.strip() for p in proxies.split(",")] if isinstance(proxies, str) else list(proxies)
        known = [c.column for c in cols]
        bad = [w for w in want if w not in known]
        if bad:
            raise NwotError(f"no stored column {bad} in {path}; stored: {', '.join(known)}")
        cols = [c for c in cols if c.column in want]
    table = load_nb201_table()
    if accuracy not in table.columns:
        acc_cols = [c for c in table.columns if "@" in c and "/" in c and ("test" in c or "valid" in c)]
        raise NwotError(f"unknown accuracy column {accuracy!r}; allowed: {', '.join(acc_cols)}")
    return correlation_table(data.seed0, cols, table[accuracy].astype(float), cell_set=f"stored cells of {path.name}",
                             accuracy_name=accuracy, draws=draws, seed=seed)
