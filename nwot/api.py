"""The Python API that the CLI wraps: score one architecture, run NASWOT search.

>>> import nwot
>>> r = nwot.score_arch(6111)                # NB201 index, arch string or op vector
>>> rep = nwot.naswot_search(n=100, runs=5)    # NASWOT search on NB201 CIFAR-10 (embedded data)
>>> rep.to_frame()
"""
from __future__ import annotations

import random
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Union

from nwot.evaluators.proxy import ScoreConfig, ScoreEvaluator
from nwot.search.base import Budget, SearchResult, get_strategy, run_search
from nwot.spaces.base import get_space

#: Reporting accuracy (200 epochs, seed mean, NATS numbers) per dataset in the embedded NB201 table.
NB201_TEST_COLUMN = {
    "cifar10": "cifar10/ori-test@200",
    "cifar100": "cifar100/x-test@200",
    "ImageNet16-120": "ImageNet16-120/x-test@200",
}


@dataclass(frozen=True)
class ScoreResult:
    arch: str  # encoded architecture
    index: Optional[int]  # benchmark index (NB201) when known
    score: float  # NASWOT log|det K_H|
    seconds: float  # wall time: build + score
    test_accuracy: Optional[float]  # benchmark 200-epoch test accuracy when known
    config: Dict[str, Any] = field(default_factory=dict)


def _nb201_index_and_arch(x: Union[int, str, tuple]):
    """NB201 identity: index, arch string or op vector -> (index, arch tuple)."""
    from nwot.spaces.nb201.codec import to_arch
    from nwot.adapters.embedded import nb201_arch_strings, nb201_index_of

    if isinstance(x, str) and x.strip().lstrip("-").isdigit():
        x = int(x)
    if isinstance(x, int) and not isinstance(x, bool):
        archs = nb201_arch_strings()
        from nwot.errors import OutOfSpaceError

        if not 0 <= x < len(archs):
            raise OutOfSpaceError(f"NB201 index {x} out of range; allowed 0..{len(archs) - 1}")
        return x, to_arch(archs[x])
    arch = to_arch(x)
    from nwot.spaces.nb201.codec import format_arch

    return nb201_index_of(format_arch(arch)), arch


def nb201_test_accuracy(index: int, dataset: str) -> Optional[float]:
    from nwot.adapters.embedded import load_nb201_table

    col = NB201_TEST_COLUMN.get(dataset)
    return None if col is None else float(load_nb201_table()[col].iat[index])


def score_arch(arch: Any, *, space: str = "nb201", dataset: str = "cifar10", batch_size: int = 128, seed: int = 0,
          init_seed: Optional[int] = None, compat: str = "clean", device: Optional[str] = None,
          data_dir=None) -> ScoreResult:
    """NASWOT score of one untrained network (Mellor et al., ICML 2021, §3).

    ``seed`` picks the scoring batch; ``init_seed`` (default: ``seed``) the network initialisation.
    For NB201, ``arch`` may be an index, an arch string or an op vector, and the benchmark accuracy
    is returned alongside.
    """
    sp = get_space(space)
    index = None
    if space == "nb201":
        index, a = _nb201_index_and_arch(arch)
    else:
        a = sp.decode(arch) if isinstance(arch, str) else arch
    cfg = ScoreConfig(dataset=dataset, batch_size=batch_size, batch_seed=seed,
                      init_seed=seed if init_seed is None else init_seed, compat=compat, device=device)
    ev = ScoreEvaluator(sp, cfg, data_dir=data_dir)(a)
    acc = nb201_test_accuracy(index, dataset) if index is not None else None
    return ScoreResult(sp.encode(a), index, ev.signal, ev.cost, acc, asdict(cfg))


@dataclass
class SearchReport:
    """Results of ``runs`` independent searches."""

    runs: List[SearchResult]

    def to_frame(self):
        """One row per run: best arch, index, signal, test accuracy, wall/simulated time."""
        import pandas as pd

        rows = []
        for r in self.runs:
            row = {"seed": r.seed, "strategy": r.strategy, "space": r.space, "best_arch": r.best_arch,
                   "best_signal": r.best_signal, "n_evals": r.n_evals, "used_time": r.used_time}
            row.update(r.final)
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> Dict[str, Any]:
        accs = [r.final.get("test_accuracy") for r in self.runs if r.final.get("test_accuracy") is not None]
        out: Dict[str, Any] = {"runs": len(self.runs)}
        if accs:
            out["test_accuracy_mean"] = statistics.fmean(accs)
            out["test_accuracy_std"] = statistics.pstdev(accs) if len(accs) > 1 else 0.0
        times = [r.used_time for r in self.runs]
        out["time_mean"] = statistics.fmean(times)
        return out


def naswot_search(*, space: str = "nb201", dataset: str = "cifar10", n: int = 100, runs: int = 1, seed: int = 0,
           batch_size: int = 128, compat: str = "clean", device: Optional[str] = None, data_dir=None,
           progress=None, threads: Optional[int] = None, workers: Optional[int] = None) -> SearchReport:
    """NASWOT search (Mellor et al. §4, Table 2): per run, sample ``n`` cells uniformly with replacement,
    score each on one batch, keep the highest score.

    Run ``r`` uses seed ``seed + r`` for the sample, the scoring batch and the initialisation.
    Costs are measured wall seconds (build + score) of each cell; the ``n`` cells of a run are scored
    with every core (``threads`` intra-op threads or ``workers`` processes; None: worker processes where
    they measured faster than one process),
    which changes no score. Each result's config records the plan and the run's wall seconds.
    """
    import time

    sp = get_space(space)
    results = []
    for r in range(runs):
        s = seed + r
        t0 = time.perf_counter()
        cfg = ScoreConfig(dataset=dataset, batch_size=batch_size, batch_seed=s, init_seed=s, compat=compat,
                          device=device)
        evaluator = ScoreEvaluator(sp, cfg, data_dir=data_dir, threads=threads, workers=workers)
        strategy = get_strategy("naswot", sp, random.Random(s), n=n)
        report = _nb201_report(dataset) if space == "nb201" else None
        res = run_search(strategy, evaluator, Budget(evaluations=n), seed=s, report=report, progress=progress)
        plan = evaluator.plan()
        res.config.update(asdict(cfg))
        res.config.update({"threads": plan.threads, "workers": plan.workers, "wall_seconds": time.perf_counter() - t0})
        results.append(res)
    return SearchReport(results)


def _nb201_report(dataset: str):
    from nwot.spaces.nb201.codec import format_arch
    from nwot.adapters.embedded import nb201_index_of

    def report(arch) -> Dict[str, Any]:
        idx = nb201_index_of(format_arch(arch))
        return {"index": idx, "test_accuracy": nb201_test_accuracy(idx, dataset)}

    return report
