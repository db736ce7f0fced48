"""The asynchronous controller (nwot.search.async_run) on the inline pool: semantics, persistence, resume, retries.

No Ray here (tests/search/test_async_ray.py runs it on Ray with real training): the inline pool evaluates in the
test's process, in a scrambled order that is a function of the candidates in flight, so out-of-order
arrival is exercised deterministically. Evaluations are a toy function of the encoding (tests/_async_helpers.py).
"""
from __future__ import annotations

import math
import random
import sqlite3

import pytest
from _async_helpers import Crash, CrashAfter, Flaky, ToyEval

from nwot.errors import NwotError
from nwot.search.async_pool import Workers
from nwot.search.async_run import asynchrony_of
from nwot.search.async_store import AsyncStore
from nwot.search.base import ASYNCHRONY, get_strategy, list_strategies, strategy_class
from nwot.search.loop import Budget
from nwot.search.run import run
from nwot.spaces import get_space

NB201 = get_space("nb201")
SMALL_SURROGATE = dict(embed=8, hidden=16, epochs=5)
#: strategy -> options, on the NB201 space with the toy evaluator
CASES = {
    "random": {},
    "rea": {"population_size": 5, "sample_size": 2},
    "reinforce": {},
    "lse": {"population_size": 6},
    "pnas": {"beam": 4, "surrogate": "mlp", "surrogate_kwargs": SMALL_SURROGATE},
    "blockqnn": {"batch_size": 4, "replay_size": 4},
}
EXPECTED_ASYNCHRONY = {"random": "any", "rea": "any", "reinforce": "any", "lse": "any", "pnas": "beam",
                       "blockqnn": "batch", "area": "batch", "bo": "batch"}


def inline(k: int, tmp_path, name: str = "state.sqlite", **kw) -> Workers:
    return Workers(k, backend="inline", state=str(tmp_path / name), **kw)


def rows(res):
    return [(r.arch, r.signal, r.cost, r.kind, r.failure) for r in res.trace]


def events(path):
    con = sqlite3.connect(str(path))
    try:
        return con.execute("SELECT kind, payload FROM events ORDER BY run_id, seq").fetchall()
    finally:
        con.close()


def test_every_strategy_declares_what_it_tolerates():
    for name in list_strategies():
        assert strategy_class(name).asynchrony in ASYNCHRONY
    for name, mode in EXPECTED_ASYNCHRONY.items():
        assert strategy_class(name).asynchrony == mode, name


@pytest.mark.parametrize("strategy", sorted(CASES))
def test_one_worker_is_the_synchronous_loop(strategy, tmp_path):
    """With K = 1 nothing overlaps: the same trace, best and strategy state as run_search."""
    budget = Budget(evaluations=40)
    sync = run(strategy, NB201, ToyEval(NB201), budget, seed=3, options=CASES[strategy]).runs[0]
    asyn = run(strategy, NB201, ToyEval(NB201), budget, seed=3, options=CASES[strategy],
               workers=inline(1, tmp_path)).runs[0]
    assert rows(asyn) == rows(sync) and len(sync.trace) == 40
    assert (asyn.best_arch, asyn.best_signal, asyn.used_time) == (sync.best_arch, sync.best_signal, sync.used_time)
    cfg = asyn.config["asynchronous"]
    assert cfg["workers"] == 1 and cfg["asynchrony"] == EXPECTED_ASYNCHRONY[strategy]
    assert cfg["candidates"] == {"done": 40}


@pytest.mark.parametrize("strategy", sorted(CASES))
def test_four_workers_out_of_order(strategy, tmp_path):
    """K = 4: arrivals out of ask order; the strategy's declaration is respected, every candidate told once."""
    ev = ToyEval(NB201)
    res = run(strategy, NB201, ev, Budget(evaluations=40), seed=1, options=CASES[strategy],
              workers=inline(4, tmp_path)).runs[0]
    assert res.n_evals == 40 and len(ev.calls) == 40
    assert res.best_signal == max(r.signal for r in res.trace) == max(ev.value(NB201.decode(a)) for a in ev.calls)
    history = [(k, __import__("json").loads(p)) for k, p in events(tmp_path / "state.sqlite")]
    asked = [c for k, p in history if k == "ask" for c in p["cids"]]
    told = [c for k, p in history if k == "tell" for c in p["cids"]]
    arrived = [p["cid"] for k, p in history if k == "result"]
    assert sorted(asked) == sorted(told) == sorted(arrived) == list(range(40))  # each told exactly once
    assert arrived != sorted(arrived)  # results came out of order
    mode = EXPECTED_ASYNCHRONY[strategy]
    open_cids, in_flight_max = set(), 0
    for k, p in history:
        if k == "ask":
            if mode != "any":
                assert not open_cids, "a beam / batch strategy was asked again before its last ask was told"
            open_cids |= set(p["cids"])
        elif k == "tell":
            if mode == "batch":  # told together, in ask order, once all arrived
                assert p["cids"] == sorted(open_cids)
            else:
                assert len(p["cids"]) == 1
            open_cids -= set(p["cids"])
        in_flight_max = max(in_flight_max, len(open_cids))
    if mode == "any":
        assert in_flight_max == 4  # the 4 workers were kept busy
    # the trace is in arrival order and its clock adds up
    assert [r.arch for r in res.trace] == [ev.calls[i] for i in range(40)]
    assert res.used_time == pytest.approx(40.0)


@pytest.mark.parametrize("strategy", sorted(CASES))
@pytest.mark.parametrize("crash_at", [1, 17, 30])
def test_a_killed_controller_resumes_with_nothing_lost(strategy, crash_at, tmp_path):
    """The controller dies during its ``crash_at``-th evaluation; started again on the same state it ends with
    exactly the uninterrupted run's trace, and only the interrupted evaluation is run twice."""
    budget, opts = Budget(evaluations=30), CASES[strategy]
    whole = run(strategy, NB201, ToyEval(NB201), budget, seed=5, options=opts,
                workers=inline(3, tmp_path, "whole.sqlite")).runs[0]
    inner = ToyEval(NB201)
    killed = CrashAfter(inner, crash_at)
    wk = inline(3, tmp_path)
    with pytest.raises(Crash):
        run(strategy, NB201, killed, budget, seed=5, options=opts, workers=wk)
    resumed = run(strategy, NB201, killed, budget, seed=5, options=opts, workers=wk).runs[0]
    assert rows(resumed) == rows(whole)
    assert len(inner.calls) == 30 and len(set(inner.calls)) == len(set(r.arch for r in whole.trace))
    cfg = resumed.config["asynchronous"]
    assert cfg["sessions"] == 2 and cfg["resubmitted_on_resume"] >= 1 and cfg["candidates"] == {"done": 30}
    again = run(strategy, NB201, killed, budget, seed=5, options=opts, workers=wk).runs[0]  # finished: no work
    assert rows(again) == rows(whole) and len(inner.calls) == 30


def test_resume_with_a_larger_budget_goes_on(tmp_path):
    ev = ToyEval(NB201)
    wk = inline(2, tmp_path)
    a = run("rea", NB201, ev, Budget(evaluations=12), seed=0, options=CASES["rea"], workers=wk).runs[0]
    b = run("rea", NB201, ev, Budget(evaluations=20), seed=0, options=CASES["rea"], workers=wk).runs[0]
    assert rows(b)[:12] == rows(a) and b.n_evals == 20 and len(ev.calls) == 20


def test_lse_resumes_from_its_snapshot_not_a_replay(tmp_path, monkeypatch):
    from nwot.search.lse import LargeScaleEvolution

    wk = inline(3, tmp_path)
    with pytest.raises(Crash):
        run("lse", NB201, CrashAfter(ToyEval(NB201), 20), Budget(evaluations=30), seed=2, options=CASES["lse"],
            workers=wk)
    recorded = sum(1 for k, _ in events(tmp_path / "state.sqlite") if k == "ask")
    seen = []
    restore, ask = LargeScaleEvolution.restore, LargeScaleEvolution.ask
    monkeypatch.setattr(LargeScaleEvolution, "restore",
                        lambda self, snap: (seen.append("restore"), restore(self, snap)))
    monkeypatch.setattr(LargeScaleEvolution, "ask", lambda self: (seen.append("ask"), ask(self))[1])
    res = run("lse", NB201, ToyEval(NB201), Budget(evaluations=30), seed=2, options=CASES["lse"], workers=wk).runs[0]
    assert seen == ["restore"] + ["ask"] * (30 - recorded)  # restored, then only the asks still to come
    assert res.n_evals == 30


def test_failed_workers_are_retried_then_recorded(tmp_path):
    inner = ToyEval(NB201)
    rng = random.Random(0)
    first = [NB201.encode(NB201.sample(rng)) for _ in range(3)]  # random search's first three draws (seed 0)
    ev = Flaky(inner, tmp_path, raise_once=[first[0]], always=[first[2]])
    res = run("random", NB201, ev, Budget(evaluations=8), seed=0, workers=inline(2, tmp_path, retries=2)).runs[0]
    assert res.n_evals == 8
    with AsyncStore(tmp_path / "state.sqlite") as store:
        cands = store.candidates(1)
    by_arch = {c.arch: c for c in cands.values()}
    assert by_arch[first[0]].attempts == 2 and by_arch[first[0]].status == "done"
    assert "injected failure" in by_arch[first[0]].reason
    bad = by_arch[first[2]]
    assert bad.attempts == 3 and bad.status == "failed"  # 1 + 2 retries
    assert bad.evaluation.failure.startswith("evaluation failed 3 time(s); last: RuntimeError: injected permanent")
    row = next(r for r in res.trace if r.arch == first[2])
    assert row.signal == -math.inf and row.failure == bad.evaluation.failure  # told as a failed evaluation
    assert res.best_arch != first[2]
    assert res.config["asynchronous"]["retried"] == 3 and res.config["asynchronous"]["gave_up"] == 1


def test_seconds_budget_discards_and_cancels(tmp_path):
    ev = ToyEval(NB201, cost=lambda enc: 1.0 + len(enc) % 3)  # costs 1, 2 or 3 s
    wk = inline(3, tmp_path)
    res = run("random", NB201, ev, Budget(seconds=20.0), seed=4, workers=wk).runs[0]
    assert res.used_time <= 20.0 and res.used_time == pytest.approx(sum(r.cost for r in res.trace))
    with AsyncStore(tmp_path / "state.sqlite") as store:
        status = store.status_counts()
    assert status["discarded"] == 1 and status["done"] == res.n_evals and status.get("cancelled", 0) >= 1
    n = len(ev.calls)
    again = run("random", NB201, ev, Budget(seconds=20.0), seed=4, workers=wk).runs[0]
    assert rows(again) == rows(res) and len(ev.calls) == n  # the same budget: nothing more is evaluated
    more = run("random", NB201, ev, Budget(seconds=40.0), seed=4, workers=wk).runs[0]
    assert rows(more)[:len(res.trace)] == rows(res) and more.used_time > 20.0


def test_replay_that_diverges_stops_with_the_step(tmp_path):
    wk = inline(2, tmp_path)
    run("rea", NB201, ToyEval(NB201), Budget(evaluations=8), seed=0, options=CASES["rea"], workers=wk)
    con = sqlite3.connect(str(tmp_path / "state.sqlite"))
    con.execute("UPDATE candidates SET arch='|none~0|+|none~0|none~1|+|none~0|none~1|none~2|' WHERE cid=0")
    con.commit()
    con.close()
    with pytest.raises(NwotError, match="diverged at event"):
        run("rea", NB201, ToyEval(NB201), Budget(evaluations=9), seed=0, options=CASES["rea"], workers=wk)


def test_bad_input(tmp_path):
    ev = ToyEval(NB201)
    with pytest.raises(NwotError, match="workers must be an int >= 1"):
        Workers(0)
    with pytest.raises(NwotError, match="unknown worker backend 'dask'"):
        Workers(2, backend="dask")
    with pytest.raises(NwotError, match="needs backend='ray'"):
        Workers(2, backend="inline", address="auto")
    with pytest.raises(NwotError, match="give workers=K too"):
        run("random", NB201, ev, Budget(evaluations=2), address="auto")
    with pytest.raises(NwotError, match="pass state=PATH"):
        run("random", NB201, ev, Budget(evaluations=2), workers=Workers(2, backend="inline"))
    with pytest.raises(NwotError, match="not available with workers"):
        run("random", NB201, ev, Budget(evaluations=2), workers=inline(2, tmp_path), prescreen=2, scorer=ev)
    st = get_strategy("rea", NB201, random.Random(0))
    assert asynchrony_of(st) == "any"
