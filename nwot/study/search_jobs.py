"""The search-strategy comparison on NAS-Bench-201 as a set of seeded, resumable jobs.

Settings (search signal = x-valid accuracy after the 12-epoch schedule, charged its simulated seconds;
final number = 200-epoch test accuracy of the best-by-signal arch, seed mean):

* ``nb201/cifar10``: NAS-Bench-201 Table 5 protocol (Dong & Yang, ICLR 2020, §5): search CIFAR-10
  (``cifar10-valid``) for 12,000 s, report the chosen arch on CIFAR-10, CIFAR-100 and ImageNet16-120;
  variants ``quarter`` (3,000 s) and ``noise`` (Gaussian seed-draw noise of SD ``signal_noise`` on the signal);
* ``nats/<dataset>``: NATS-Bench protocol (Dong et al., TPAMI 2021, §5): each dataset searched on its own
  signal for 20,000 / 40,000 / 120,000 s (CIFAR-100 / ImageNet16-120 charged ``cost="scaled"``).

A job is one run ``r`` of one strategy on one setting, seeded ``seed + r``; :func:`config_key` hashes
everything else it depends on. :class:`RunFile` keeps finished runs, one JSON line each, so a killed
comparison resumes where it stopped and never mixes configurations. AREA (Mellor et al., ICML 2021,
§4.1; pool size M) and NASWOT search (N cells) read stored full-space scores.
"""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from nwot.errors import NwotError

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
TABLE_STRATEGIES = ("random", "rea", "reinforce", "bo", "lse")
SCORE_STRATEGIES = ("area", "naswot")
LABELS = {"random": "RS", "rea": "REA", "reinforce": "REINFORCE", "bo": "BO (TPE)", "lse": "LSE",
          "area": "AREA"}
#: AREA's pool size in the NASWOT paper (§4.1); runs with it keep the label ``area``.
PAPER_AREA_M = 20


@dataclass(frozen=True)
class Setting:
    protocol: str  # "nb201" or "nats"
    dataset: str  # search dataset
    budget: float  # simulated seconds
    report: Tuple[str, ...]  # datasets the chosen arch is reported on
    cost: str  # cost model of the table evaluator
    variant: str = ""  # "" (the protocol as published), "quarter" (budget / 4) or "noise" (signal_noise > 0)
    signal_noise: float = 0.0  # SD of the Gaussian seed-draw model on the 12-epoch signal (0 = seed mean)

    @property
    def key(self) -> str:
        return f"{self.protocol}/{self.dataset}" + (f"/{self.variant}" if self.variant else "")

    def title(self) -> str:
        if self.protocol == "nats":
            return f"NATS: search+report {self.dataset}"
        extra = {"quarter": f", {self.budget:,.0f} s (quarter budget)",
                 "noise": f", signal + N(0, {self.signal_noise:.2f}²)"}.get(self.variant, "")
        return "NB201: search CIFAR-10" + extra

    @property
    def has_published(self) -> bool:
        """The published NB201 Table 5 rows sit beside the 12,000 s CIFAR-10 search (with or without noise)."""
        return self.protocol == "nb201" and self.variant != "quarter"


def all_settings(signal_noise: float = 0.0) -> List[Setting]:
    """The four protocol settings, plus two NB201 variants: ``nb201/cifar10/quarter`` (3,000 s: AREA vs REA
    at a quarter of the budget) and ``nb201/cifar10/noise`` (the seed-draw noise model, ``signal_noise``)."""
    from nwot.search.run import NATS_BUDGETS, NB201_BUDGET

    out = [Setting("nb201", "cifar10", NB201_BUDGET, DATASETS, "benchmark"),
           Setting("nb201", "cifar10", NB201_BUDGET / 4, DATASETS, "benchmark", "quarter"),
           Setting("nb201", "cifar10", NB201_BUDGET, DATASETS, "benchmark", "noise", signal_noise)]
    for d in DATASETS:
        out.append(Setting("nats", d, NATS_BUDGETS[d], (d,), "benchmark" if d == "cifar10" else "scaled"))
    return out


SETTING_NAMES = tuple(s.key for s in all_settings())


def check_names(kind: str, names: Sequence[str], allowed: Sequence[str]) -> List[str]:
    """``names`` if each is allowed, else :class:`NwotError` naming the first bad one."""
    for n in names:
        if n not in allowed:
            raise NwotError(f"unknown {kind} {n!r}; allowed: {', '.join(allowed)}")
    return list(names)


def select_settings(names: Sequence[str], signal_noise: float = 0.0) -> Dict[str, Setting]:
    """The named settings (by :attr:`Setting.key`), in the order of :func:`all_settings`."""
    check_names("setting", names, SETTING_NAMES)
    return {s.key: s for s in all_settings(signal_noise) if s.key in names}


def area_label(m: int) -> str:
    """Run-file label of AREA with pool size M (``area`` = the paper's M = 20)."""
    return "area" if m == PAPER_AREA_M else f"area-m{m}"


def run_label(strategy: str, n: Optional[int]) -> str:
    """Run-file label: ``naswot-n<N>``, :func:`area_label`, else the strategy's name."""
    return f"naswot-n{n}" if strategy == "naswot" else area_label(n) if strategy == "area" else strategy


def label(strategy: str) -> str:
    """Table label of a run-file label: ``NASWOT (N=10)``, ``AREA (M=20)``, ``REA``, ..."""
    if strategy.startswith("naswot-n"):
        return f"NASWOT (N={strategy[8:]})"
    if strategy == "area":
        return f"AREA (M={PAPER_AREA_M})"
    if strategy.startswith("area-m"):
        return f"AREA (M={strategy[6:]})"
    return LABELS.get(strategy, strategy)


def strategy_rank(strategy: str) -> Tuple[int, int, str]:
    """Table / legend order of run-file labels: RS, REA, REINFORCE, BO, LSE, AREA (by M), NASWOT (by N)."""
    if strategy.startswith("area-m"):
        base, n = "area", strategy[6:]
    else:
        base, _, n = strategy.partition("-n")
    order = TABLE_STRATEGIES + SCORE_STRATEGIES
    return (order.index(base) if base in order else len(order), int(n) if n.isdigit() else PAPER_AREA_M, strategy)


def job_config(st: Setting, strategy: str, n: Optional[int], scores: Mapping[str, str],
               score_dataset: Optional[str] = None) -> Dict[str, Any]:
    """What a run depends on besides its seed (a run file mixing configurations is refused).

    ``n``: NASWOT's N, or AREA's pool size M."""
    cfg = {"setting": st.key, "budget": st.budget, "report": list(st.report), "cost": st.cost,
           "signal_seed": "mean", "strategy": strategy, "hp": "12"}
    if st.signal_noise:
        cfg["signal_noise"] = st.signal_noise
    if strategy == "naswot":
        cfg["n"] = n
    if strategy == "area" and n != PAPER_AREA_M:  # M = 20 keeps the key of runs made before M was an option
        cfg["m"] = n
    if strategy in SCORE_STRATEGIES:
        cfg["scores"] = Path(scores[score_dataset or st.dataset]).name
    return cfg


def config_key(cfg: Mapping[str, Any]) -> str:
    """First 16 hex digits of the SHA-256 of the sorted-key JSON of ``cfg``."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]


def score_dataset(strategy: str, st: Setting, available: Mapping[str, Any]) -> Optional[str]:
    """Whose NASWOT scores a score-using run reads: its search dataset's, else CIFAR-10's (labelled †)."""
    if strategy not in SCORE_STRATEGIES:
        return None
    for d in (st.dataset, "cifar10"):
        if d in available:
            return d
    return None


@dataclass(frozen=True)
class Job:
    """One seeded run of one strategy on one setting."""

    setting: Setting
    strategy: str  # registered strategy name
    label: str  # run-file label (:func:`run_label`)
    n: Optional[int]  # NASWOT's N or AREA's M
    run: int  # run number r
    seed: int  # seed + r
    config_key: str  # :func:`config_key` of :func:`job_config`
    score_dataset: Optional[str]  # whose stored scores a score-using run reads

    @property
    def id(self) -> Tuple[str, str, int]:
        return (self.setting.key, self.label, self.run)


def plan_jobs(settings: Mapping[str, Setting], strategies: Sequence[str], runs: int, seed: int,
              sizes: Mapping[str, Sequence[int]], scores: Mapping[str, str],
              available: Mapping[str, Any]) -> Tuple[List[Job], List[str]]:
    """Every job of the comparison, and why the score-using rows without stored scores are skipped.

    ``sizes``: NASWOT's Ns (``"naswot"``) and AREA's Ms (``"area"``); ``scores``: dataset -> score file asked
    for; ``available``: datasets whose scores were read. NASWOT search runs only on the unvaried settings
    (it neither uses the budget nor the 12-epoch signal).
    """
    check_names("strategy", strategies, TABLE_STRATEGIES + SCORE_STRATEGIES)
    jobs, skipped = [], []
    for st in settings.values():
        for s in strategies:
            sd = score_dataset(s, st, available)
            if s in SCORE_STRATEGIES and sd is None:
                why = f"file {scores[st.dataset]} not found" if st.dataset in scores else "--scores not given"
                skipped.append(f"{LABELS.get(s, 'NASWOT')} on {st.key}: no stored NASWOT scores for {st.dataset} "
                               f"({why})")
                continue
            if s == "naswot" and st.variant:
                continue
            for n in (sizes[s] if s in sizes else [None]):
                ck = config_key(job_config(st, s, n, scores, sd))
                jobs += [Job(st, s, run_label(s, n), n, r, seed + r, ck, sd) for r in range(runs)]
    return jobs, skipped


def run_job(job: Job, bench, index_of: Mapping[str, int], scorers: Mapping[str, Any]) -> Dict[str, Any]:
    """Run one job (:func:`nwot.search.run.run_strategy`) and return its run record (trace included)."""
    from nwot.search.run import run_strategy

    st = job.setting
    kwargs: Dict[str, Any] = {"evaluations": job.n} if job.strategy == "naswot" else {"budget_seconds": st.budget}
    if job.strategy == "area":
        kwargs["n_candidates"] = job.n  # AREA's pool size M
    res = run_strategy(job.strategy, "nb201", st.dataset, runs=1, seed=job.seed, benchmark=bench,
                       scores=scorers.get(job.score_dataset), signal_seed="mean", cost=st.cost,
                       signal_noise=st.signal_noise, report_datasets=st.report, **kwargs)[0]
    tr = res.trace
    rec = {"setting": st.key, "strategy": job.label, "run": job.run, "seed": res.seed,
           "config_key": job.config_key, "best_index": index_of[res.best_arch], "best_signal": res.best_signal,
           "n_evals": res.n_evals, "used_time": res.used_time, "final": res.final,
           **({"score_dataset": job.score_dataset} if job.strategy in SCORE_STRATEGIES else {}),
           "trace": {"index": [index_of[r.arch] for r in tr], "signal": [r.signal for r in tr],
                     "cost": [r.cost for r in tr]}}
    if any(r.kind != "eval" for r in tr):
        rec["trace"]["kind"] = [r.kind for r in tr]
    return rec


def compact(rec: Mapping[str, Any]) -> Dict[str, Any]:
    """A run record for the committed traces file: per evaluation only the benchmark index (and kind);
    its signal and cost are lookups of that index in the embedded table (``signal_seed="mean"``; the
    noise setting's signal is seeded by the run) or in the stored score file."""
    out = {k: v for k, v in rec.items() if k != "trace"}
    out["trace"] = {k: v for k, v in rec["trace"].items() if k in ("index", "kind")}
    return out


class RunFile:
    """Finished runs, one JSON line each (JSONL), keyed by ``(setting, label, run)``: the comparison's cache.

    A torn last line (a run killed mid-write) is cut off when the file is read; a stored run whose config
    key or seed differs from the job asking for it is refused (:class:`NwotError`), so one file never
    mixes configurations.
    """

    def __init__(self, path) -> None:
        self.path = Path(path)

    def read(self) -> Dict[Tuple[str, str, int], Dict[str, Any]]:
        if not self.path.is_file():
            return {}
        raw = self.path.read_bytes()
        out, good = {}, 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                break
            out[(rec["setting"], rec["strategy"], rec["run"])] = rec
            good += len(line)
        if good < len(raw):
            print(f"note: dropping a torn record at the end of {self.path} ({len(raw) - good} bytes)", file=sys.stderr)
            with open(self.path, "r+b") as f:
                f.truncate(good)
        return out

    def todo(self, jobs: Sequence[Job], done: Mapping[Tuple[str, str, int], Mapping[str, Any]]) -> List[Job]:
        """The jobs not in ``done``; a stored run of another configuration raises."""
        out = []
        for j in jobs:
            rec = done.get(j.id)
            if rec is None:
                out.append(j)
            elif rec["config_key"] != j.config_key or rec["seed"] != j.seed:
                raise NwotError(f"{self.path} holds run {j.run} of {j.label} on {j.setting.key} made with other "
                                f"settings (config {rec['config_key']}, seed {rec['seed']}); use another --work-dir")
        return out


def run_jobs(jobs: Sequence[Job], run_file: RunFile, bench, scorers: Mapping[str, Any], *,
             progress: Optional[bool] = None) -> List[Dict[str, Any]]:
    """Every job's run record, sorted by ``(setting, label, run)``: from the run file, or run now and appended
    to it at once (flushed per run). ``progress``: tqdm's ``disable`` inverted (None = only on a terminal)."""
    from tqdm import tqdm

    done = run_file.read()
    todo = run_file.todo(jobs, done)
    print(f"{len(jobs)} runs requested, {len(jobs) - len(todo)} already in {run_file.path}, {len(todo)} to do",
          file=sys.stderr)
    index_of = {bench.arch(i): i for i in range(len(bench))}
    run_file.path.parent.mkdir(parents=True, exist_ok=True)
    with open(run_file.path, "a", encoding="utf-8") as f:
        for j in tqdm(todo, desc="search runs", unit="run", disable=None if progress is None else not progress,
                      file=sys.stderr):
            rec = run_job(j, bench, index_of, scorers)
            f.write(json.dumps(rec) + "\n")
            f.flush()
            done[j.id] = rec
    return [done[k] for k in sorted({j.id for j in jobs})]


def parse_scores(items: Sequence[str]) -> Dict[str, str]:
    """``--scores [DATASET=]PATH`` items -> ``{dataset: path}`` (a bare PATH is CIFAR-10's)."""
    out = {}
    for it in items:
        ds, sep, path = it.partition("=")
        if not sep:
            ds, path = "cifar10", it
        if ds not in DATASETS:
            raise NwotError(f"--scores {it!r}: dataset {ds!r} not one of {', '.join(DATASETS)}")
        out[ds] = path
    return out


def signal_noise(spec: str, shared_data=None) -> Dict[str, Any]:
    """The seed-draw noise SD of the ``noise`` setting: a number, or ``"nats"`` = estimated from the staged
    NATS-TSS records (:func:`nwot.evaluators.benchmark.estimate_signal_noise`, hp 12, cifar10-valid)."""
    if spec != "nats":
        try:
            sd = float(spec)
        except ValueError:
            raise NwotError(f"--signal-noise must be a number >= 0 or 'nats', got {spec!r}") from None
        return {"sd": sd, "source": "--signal-noise"}
    from nwot.adapters.nats import open_nats_tss
    from nwot.evaluators.benchmark import estimate_signal_noise
    from nwot.paths import shared_data_dir

    path = shared_data_dir(shared_data) / "nats" / "NATS-tss-v1_0-3ffb9-simple"
    if not path.is_dir():
        raise NwotError(f"--signal-noise nats needs the NATS-TSS records at {path} (set NWOT_SHARED_DATA), "
                        f"or give the SD as a number, or leave out the nb201/cifar10/noise setting")
    est = estimate_signal_noise(open_nats_tss(path), "cifar10")
    est["source"] = (f"estimate_signal_noise on {est['archs']} NATS-TSS records, {est['results']} seed results of "
                     f"{est['dataset']} hp {est['hp']}")
    return est
