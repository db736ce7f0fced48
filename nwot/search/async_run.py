"""Asynchronous search: K workers evaluate candidates at once, results are told as they arrive.

The controller keeps the strategy (ask/tell stays the interface) and a pool of K workers
(:mod:`nwot.search.async_pool`: Ray tasks, or inline for tests) evaluates candidates concurrently; results
are charged and told in the order they arrive, as the asynchronous workers of large-scale evolution (Real
et al., ICML 2017: 250 workers) and regularized evolution (Real et al., AAAI 2019) did::

    while the budget allows or candidates are in flight:
        while a worker is free and the strategy may ask (below): ask, record, submit
        (cid, evaluation) = the next candidate to finish             # ray.wait
        charge it; tell it (or hold it, see "batch"); record

What a strategy tolerates is its declaration :attr:`~nwot.search.base.Strategy.asynchrony`
(:data:`~nwot.search.base.ASYNCHRONY`):

* ``"any"`` (random, REA, REINFORCE, LSE): an ask whenever a worker is free and ``strategy.can_ask()``;
  each arrival is told at once, alone;
* ``"beam"`` (PNAS): one ask at a time; its archs (the beam) fill the workers and each is told as it
  arrives; the next ask once the whole beam is told;
* ``"batch"`` (BlockQNN, and any strategy that declares nothing): one ask at a time; its archs are
  evaluated concurrently and told together, in ask order, once all arrived (the synchronous loop's
  semantics, with the evaluations spread over the workers).

**Budget.** ``Budget.evaluations`` bounds the candidates asked (an ask is cut to what is left, as in the
synchronous loop); ``Budget.seconds`` the charged seconds (the sum of the evaluations' costs, i.e. the
workers' compute time, and the strategy's own charges): the first arrival that does not fit is discarded,
the candidates still in flight are cancelled, and the search ends (an ask whose own charges do not fit is
dropped with them). Failed evaluations are charged, traced and told, as in :func:`~nwot.search.loop.run_search`.

**Persistence** (:class:`~nwot.search.async_store.AsyncStore`, one SQLite file): every ask, arrival and
tell is written, with the candidate's status and evaluation, in one transaction before the controller goes
on, and a strategy with ``snapshot()`` / ``restore()`` (LSE) has its snapshot written with each ask and
tell. **Resume**: a controller started again on the same state file and search (same strategy, options,
seed, space and evaluator; the budget may differ, e.g. be extended) restores the snapshot, or replays the
recorded history on a fresh strategy (each replayed ask must return the recorded candidates, else it stops
with an error naming the step: the strategy is deterministic given its seed and the tells), rebuilds the
trace and the budget from the recorded arrivals, and resubmits the candidates that had not arrived.
Nothing is trained twice: a resubmitted candidate that had finished comes back from its checkpoint (the
training evaluator's ``checkpoint_dir``), one interrupted mid-training resumes from its last epoch.

**Failures.** A candidate whose task raised or whose worker died (after Ray's own ``max_retries``) is
resubmitted up to ``Workers.retries`` times, each attempt and its reason recorded; then it is told as a
failed evaluation (``Evaluation.failed``, the last reason). A failure the evaluator returns (out of memory,
a diverged run) is that candidate's result, told as it is.

Strategy calls run with one torch thread (restored afterwards), so a replayed history refits a strategy's
surrogate (PNAS) bit for bit.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Set, Tuple

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation, cost_kind
from nwot.search.async_pool import Workers, open_pool
from nwot.search.async_store import AsyncStore, dumps
from nwot.search.base import ASYNCHRONY, EVAL, Strategy
from nwot.search.loop import Budget, SearchResult, TraceRow
from nwot.spaces.base import Arch


def run_key(identity: Dict[str, Any]) -> str:
    """The state file's name for a search run: sha1 of its identity (JSON)."""
    return hashlib.sha1(dumps(identity).encode()).hexdigest()


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def asynchrony_of(strategy: Strategy) -> str:
    mode = getattr(strategy, "asynchrony", "batch")
    if mode not in ASYNCHRONY:
        raise NwotError(f"strategy {strategy.name!r} declares asynchrony {mode!r}; allowed: {', '.join(ASYNCHRONY)}")
    return mode


def _has_snapshot(strategy: Strategy) -> bool:
    return callable(getattr(strategy, "snapshot", None)) and callable(getattr(strategy, "restore", None))


class AsyncSearch:
    """One asynchronous search run (see the module docstring); :meth:`run` returns its :class:`SearchResult`."""

    def __init__(self, strategy: Strategy, evaluate: Any, budget: Budget, *, store: AsyncStore, run_id: int,
                 pool: Any, workers: Workers, seed: int = 0, report: Optional[Callable[[Arch], Dict[str, Any]]] = None,
                 progress: Optional[Callable[[TraceRow], None]] = None) -> None:
        self.strategy, self.evaluate, self.budget = strategy, evaluate, budget
        self.store, self.run_id, self.pool, self.workers = store, run_id, pool, workers
        self.seed, self.report, self.progress = seed, report, progress
        self.mode = asynchrony_of(strategy)
        self.snapshots = _has_snapshot(strategy)
        self.enc = strategy.space.encode
        self.archs: Dict[int, Arch] = {}
        self.encoded: Dict[int, str] = {}
        self.attempts: Dict[int, int] = {}
        self.queue: List[int] = []  # asked, waiting for a worker
        self.flight: Set[int] = set()  # with a worker
        self.batch: List[int] = []  # beam / batch modes: the open ask's candidates not yet told
        self.held: Dict[int, Evaluation] = {}  # batch mode: arrived, not yet told
        self.used, self.n_evals, self.n_asked = 0.0, 0, 0
        self.best: Tuple[Optional[int], float] = (None, -math.inf)
        self.trace: List[TraceRow] = []
        self.stopped = False
        self.stats = {"retried": 0, "gave_up": 0, "resubmitted_on_resume": 0, "replayed_events": 0,
                      "max_in_flight": 0}

    # -- bookkeeping -------------------------------------------------------------------------------
    def _row(self, enc: str, ev: Evaluation, kind: str) -> None:
        b = self.best[0]
        row = TraceRow(len(self.trace), enc, float(ev.signal), float(ev.cost), self.used,
                       "" if b is None else self.encoded[b], float(self.best[1]), kind, ev.failure or "")
        self.trace.append(row)
        if self.progress is not None:
            self.progress(row)

    def _charge(self, enc: str, ev: Evaluation, kind: str) -> None:
        self.used += ev.cost
        self._row(enc, ev, kind)

    def _count(self, cid: int, ev: Evaluation) -> None:
        """Charge an arrived evaluation (it fits) and trace it."""
        self.used += ev.cost
        self.n_evals += 1
        if ev.ok and (ev.signal > self.best[1] or self.best[0] is None):
            self.best = (cid, float(ev.signal))
        self._row(self.encoded[cid], ev, EVAL)

    def _snapshot(self) -> Optional[Dict[str, Any]]:
        return self.strategy.snapshot() if self.snapshots else None

    def _register(self, cids: List[int], archs: List[Arch]) -> None:
        for c, a in zip(cids, archs):
            self.archs[c], self.encoded[c] = a, self.enc(a)
            self.attempts.setdefault(c, 0)
        self.n_asked = max(self.n_asked, cids[-1] + 1)
        if self.mode != "any":
            self.batch = list(cids)

    # -- resume ------------------------------------------------------------------------------------
    def _restore(self) -> List[int]:
        """Rebuild the state from the store; returns the discarded candidates to reconsider."""
        cands = self.store.candidates(self.run_id)
        events = self.store.events(self.run_id)
        snap = self.store.snapshot(self.run_id) if self.snapshots else None
        if snap is not None:
            last = max((e.seq for e in events if e.kind in ("ask", "tell")), default=-1)
            if snap[0] != last:
                raise NwotError(f"controller state {self.store.path}: the snapshot was taken after event {snap[0]} "
                                f"but the last ask / tell is event {last}; the state file is inconsistent")
            self.strategy.restore(snap[1])
        elif self.snapshots and any(e.kind in ("ask", "tell") for e in events):
            raise NwotError(f"controller state {self.store.path}: asks were recorded but no snapshot of "
                            f"{self.strategy.name!r}")
        told: Set[int] = set()
        discarded: List[int] = []
        for e in events:
            self.stats["replayed_events"] += 1
            if e.kind == "charge":
                self._charge(e.payload["arch"], Evaluation(float(e.payload["signal"]), float(e.payload["cost"]),
                                                           dict(e.payload.get("info") or {}), e.payload.get("failure")),
                             e.payload["kind"])
            elif e.kind == "ask":
                cids = [int(c) for c in e.payload["cids"]]
                recorded = [cands[c].arch for c in cids]
                if snap is None:
                    archs = list(self.strategy.ask())[:len(cids)]
                    self.strategy.take_charges()  # recorded as charge events already
                    got = [self.enc(a) for a in archs]
                    if got != recorded:
                        raise NwotError(f"replaying {self.strategy.name!r} from {self.store.path} diverged at event "
                                        f"{e.seq}: the ask returned {got[:3]}... but {recorded[:3]}... was recorded "
                                        f"(is the strategy deterministic given its seed? same options?)")
                else:
                    archs = [self.strategy.space.decode(a) for a in recorded]
                self._register(cids, archs)
            elif e.kind == "result":
                cid = int(e.payload["cid"])
                ev = cands[cid].evaluation
                self._count(cid, ev)
                if self.mode == "batch":
                    self.held[cid] = ev
            elif e.kind == "tell":
                cids = [int(c) for c in e.payload["cids"]]
                if snap is None:
                    self.strategy.tell([self.archs[c] for c in cids], [cands[c].evaluation for c in cids])
                told.update(cids)
                self._told(cids)
            elif e.kind == "discard":
                discarded.append(int(e.payload["cid"]))
        for c, cand in cands.items():
            self.attempts[c] = cand.attempts
            if cand.status in ("pending", "running", "cancelled") and c not in told:
                self.queue.append(c)
                self.stats["resubmitted_on_resume"] += cand.status != "pending"
        return discarded

    def _told(self, cids: List[int]) -> None:
        if self.mode == "beam":
            self.batch = [c for c in self.batch if c not in cids]
        elif self.mode == "batch":
            self.batch = []
            for c in cids:
                self.held.pop(c, None)

    # -- asking ------------------------------------------------------------------------------------
    def _may_ask(self) -> bool:
        if self.stopped or self.budget.remaining_evaluations(self.n_asked) == 0:
            return False
        if self.budget.seconds is not None and self.used >= self.budget.seconds:
            return False
        if self.mode != "any":
            return not self.batch and not self.queue and not self.flight
        busy = len(self.flight) + len(self.queue)
        return busy < self.workers.count and (busy == 0 or self.strategy.can_ask())

    def _ask(self) -> None:
        archs = list(self.strategy.ask())
        charges = self.strategy.take_charges()
        used = self.used
        for _a, ev, _kind in charges:
            if not self.budget.fits(used, ev.cost):
                self.stopped = True  # the ask is dropped with its charges (module docstring)
                return
            used += ev.cost
        if not archs:
            self.stopped = True  # the strategy has nothing more to propose
            return
        room = self.budget.remaining_evaluations(self.n_asked)
        archs = archs if room is None else archs[:room]
        recorded = [(self.enc(a), kind, ev) for a, ev, kind in charges]
        cids = self.store.record_ask(self.run_id, [self.enc(a) for a in archs], recorded, self.n_asked,
                                     self._snapshot())
        for enc, kind, ev in recorded:
            self._charge(enc, ev, kind)
        self._register(cids, archs)
        self.queue.extend(cids)

    # -- arrivals ----------------------------------------------------------------------------------
    def _arrive(self, cid: int, ev: Evaluation, worker: Optional[str]) -> None:
        if not self.budget.fits(self.used, ev.cost):
            self.store.record_result(self.run_id, cid, ev, worker, discarded=True)
            self._stop()
            return
        self._count(cid, ev)
        if self.mode == "batch":
            self.held[cid] = ev
            self.store.record_result(self.run_id, cid, ev, worker)
            if all(c in self.held for c in self.batch):
                self._tell_held()
            return
        self.strategy.tell([self.archs[cid]], [ev])
        self.store.record_result(self.run_id, cid, ev, worker, tell=[cid], snapshot=self._snapshot())
        self._told([cid])

    def _tell_held(self) -> None:
        cids = [c for c in self.batch if c in self.held]
        if cids:
            self.strategy.tell([self.archs[c] for c in cids], [self.held[c] for c in cids])
            self.store.record_tell(self.run_id, cids, self._snapshot())
        self.batch, self.held = [], {}

    def _stop(self) -> None:
        """The budget is spent: cancel what is in flight, tell what a batch has (as the synchronous loop)."""
        self.stopped = True
        cancelled = self.pool.cancel() + self.queue
        self.flight.clear()
        self.queue = []
        if cancelled:
            self.store.record_cancelled(self.run_id, cancelled)
        if self.mode == "batch":
            self._tell_held()

    def _failed_attempt(self, cid: int, reason: str) -> None:
        if self.attempts[cid] <= self.workers.retries:
            self.stats["retried"] += 1
            self.store.record_retry(self.run_id, cid, reason)
            self.queue.insert(0, cid)
            return
        self.stats["gave_up"] += 1
        ev = Evaluation.failed(f"evaluation failed {self.attempts[cid]} time(s); last: {reason}", 0.0,
                               attempts=self.attempts[cid])
        self._arrive(cid, ev, None)

    # -- the loop ----------------------------------------------------------------------------------
    def run(self) -> SearchResult:
        t0 = time.perf_counter()
        self.pool.start(self.evaluate)
        with _one_torch_thread():
            for cid in self._restore():
                ev = self.store.candidates(self.run_id)[cid].evaluation
                if self.stopped or not self.budget.fits(self.used, ev.cost):
                    self.stopped = True
                    self.queue = []
                    continue
                self._arrive(cid, ev, None)
            if self.stopped and self.mode == "batch":
                self._tell_held()
            while True:
                while self._may_ask():
                    self._ask()
                while self.queue and len(self.flight) < self.workers.count and not self.stopped:
                    cid = self.queue.pop(0)
                    self.attempts[cid] += 1
                    self.store.record_sent(self.run_id, cid, self.attempts[cid])
                    self.pool.submit(cid, self.archs[cid])
                    self.flight.add(cid)
                    self.stats["max_in_flight"] = max(self.stats["max_in_flight"], len(self.flight))
                if not self.flight:
                    break
                cid, ev, err, worker = self.pool.wait()
                if cid not in self.flight:  # cancelled meanwhile
                    continue
                self.flight.discard(cid)
                if ev is None:
                    self._failed_attempt(cid, err or "unknown error")
                else:
                    self._arrive(cid, ev, worker)
        wall = time.perf_counter() - t0
        self.store.add_wall(self.run_id, wall)
        return self._result()

    def _result(self) -> SearchResult:
        if self.best[0] is None:
            failed = [r for r in self.trace if r.failure and r.kind == EVAL]
            raise NwotError(f"budget {self.budget} too small: no evaluation of {self.strategy.name} fitted in it"
                            if not failed else f"every evaluation of {self.strategy.name} failed ({len(failed)}; "
                            f"first: {failed[0].failure})")
        best = self.archs[self.best[0]]
        final = self.report(best) if self.report is not None else {}
        info = self.store.run_info(self.run_id)
        cfg = {**self.strategy.config(), "asynchronous": {
            "workers": self.workers.count, "backend": self.workers.backend, "address": self.workers.address,
            "asynchrony": self.mode, "state": str(self.store.path), "sessions": info["sessions"],
            "candidates": self.store.status_counts(self.run_id), **self.stats}}
        res = SearchResult(self.strategy.name, self.strategy.space.name, self.seed, self.encoded[self.best[0]],
                           float(self.best[1]), self.used, self.n_evals, self.trace, final, cfg,
                           cost_kind=cost_kind(self.evaluate), wall_seconds=info["wall"])
        self.store.finish(self.run_id, res.to_dict())
        return res


def async_identity(strategy_name: str, options: Dict[str, Any], seed: int, space: Any, evaluator_cfg: Dict[str, Any],
                   prescreen: int = 0, extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """What identifies a search run in the state file (not the budget, which a resumed run may extend)."""
    ev_cfg = {k: v for k, v in evaluator_cfg.items() if k != "device"}
    return {"strategy": strategy_name, "options": {k: repr(v) for k, v in sorted(options.items())}, "seed": seed,
            "space": getattr(space, "name", str(space)), "evaluator": ev_cfg, "prescreen": prescreen,
            **dict(extra or {})}


def state_path(workers: Workers, evaluate: Any):
    """The state file: ``workers.state``, else ``<evaluator checkpoint_dir>/controller.sqlite``."""
    from pathlib import Path

    if workers.state is not None:
        return Path(workers.state)
    folder = getattr(evaluate, "checkpoint_dir", None)
    if folder is None:
        raise NwotError("an asynchronous search keeps its state in an SQLite file: pass state=PATH (CLI --state), "
                        "or an evaluator with a checkpoint_dir (its controller.sqlite is used)")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder) / "controller.sqlite"


def check_resumable(evaluate: Any) -> None:
    """A training evaluator needs checkpoints, so that a resumed or retried candidate is not trained twice."""
    if hasattr(evaluate, "checkpoint_dir") and evaluate.checkpoint_dir is None:
        raise NwotError("asynchronous training needs the evaluator's checkpoint_dir (CLI --checkpoint-dir): a "
                        "resumed or retried candidate comes back from its checkpoint instead of being trained "
                        "twice, and weight inheritance reads parents' weights from it")


__all__ = ["AsyncSearch", "Workers", "open_pool", "async_identity", "run_key", "state_path", "check_resumable"]
