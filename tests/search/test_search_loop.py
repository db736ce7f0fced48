"""The one search loop (nwot/search/base.py): budget accounting, trace, best-by-signal, charged side
evaluations, determinism per seed of every registered strategy."""
from __future__ import annotations

import itertools
import math
import random
from typing import Dict, List

import pytest
from _search_toy import ToyBenchmark

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.evaluators.benchmark import TableEvaluator, TableSignalConfig
from nwot.search.base import Strategy, get_strategy, list_strategies
from nwot.search.loop import Budget, SearchResult, run_search
from nwot.spaces.base import get_space

SPACE = get_space("nb201")
A = [SPACE.sample(random.Random(k)) for k in range(8)]  # 8 distinct cells (checked below)


class Scripted(Strategy):
    """Asks the given archs in order; optionally charges side evaluations before its first ask."""

    name = "scripted"

    def __init__(self, space, rng, archs, charges=(), batch=1):
        super().__init__(space, rng)
        self.queue, self.charges, self.batch = list(archs), list(charges), batch
        self.told: List = []

    def ask(self):
        for a, ev in self.charges:
            self.charge(a, ev, "score")
        self.charges = []
        out, self.queue = self.queue[: self.batch], self.queue[self.batch:]
        return out

    def tell(self, archs, evals):
        self.told.extend(zip(archs, [e.signal for e in evals]))


class Table:
    """Evaluator with given (signal, cost) per arch; counts calls."""

    def __init__(self, values: Dict):
        self.values, self.calls = values, 0

    def __call__(self, arch):
        self.calls += 1
        s, c = self.values[arch]
        return Evaluation(s, c)


def test_archs_distinct():
    assert len(set(A)) == len(A)


def test_query_that_does_not_fit_is_discarded_and_ends_the_search():
    ev = Table({A[0]: (50.0, 30.0), A[1]: (60.0, 40.0), A[2]: (55.0, 25.0), A[3]: (99.0, 50.0), A[4]: (70.0, 10.0)})
    st = Scripted(SPACE, random.Random(0), A[:5])
    r = run_search(st, ev, Budget(seconds=100))
    # 30 + 40 + 25 = 95; the 4th (50 s) would reach 145 > 100: evaluated, discarded, search over (the
    # 5th, 10 s, would have fitted but is never asked)
    assert [row.cost for row in r.trace] == [30.0, 40.0, 25.0]
    assert [row.time for row in r.trace] == [30.0, 70.0, 95.0]
    assert r.used_time == 95.0 and r.n_evals == 3 and ev.calls == 4
    assert [a for a, _ in st.told] == A[:3]  # the discarded arch is never told to the strategy
    assert r.best_arch == SPACE.encode(A[1]) and r.best_signal == 60.0  # the 99 was never paid for


def test_exact_fit_uses_the_whole_budget_then_stops():
    ev = Table({A[0]: (1.0, 30.0), A[1]: (2.0, 40.0), A[2]: (3.0, 30.0), A[3]: (4.0, 1.0)})
    r = run_search(Scripted(SPACE, random.Random(0), A[:4]), ev, Budget(seconds=100))
    assert r.used_time == 100.0 and r.n_evals == 3 and ev.calls == 3


def test_cumulative_time_is_the_running_sum_of_costs():
    costs = [0.1, 0.2, 0.3, 1e-3, 7.7, 0.05, 3.3, 0.7]
    ev = Table({a: (float(k), c) for k, (a, c) in enumerate(zip(A, costs))})
    r = run_search(Scripted(SPACE, random.Random(0), A), ev, Budget(evaluations=len(A)))
    assert [row.time for row in r.trace] == list(itertools.accumulate(costs))
    assert r.used_time == list(itertools.accumulate(costs))[-1]
    assert [row.step for row in r.trace] == list(range(len(A)))


def test_evaluation_budget_counts_evaluations():
    ev = Table({a: (1.0, 1.0) for a in A})
    r = run_search(Scripted(SPACE, random.Random(0), A, batch=3), ev, Budget(evaluations=5))
    assert r.n_evals == 5 and ev.calls == 5 and len(r.trace) == 5


def test_best_is_by_signal_first_of_ties_and_running_best_is_traced():
    sig = [3.0, 7.0, 5.0, 7.0, 1.0]
    ev = Table({a: (s, 1.0) for a, s in zip(A, sig)})
    seen = []
    r = run_search(Scripted(SPACE, random.Random(0), A[:5]), ev, Budget(evaluations=5),
                   report=lambda a: seen.append(a) or {"test_accuracy": 42.0})
    assert r.best_arch == SPACE.encode(A[1]) and r.best_signal == 7.0
    assert [row.best_signal for row in r.trace] == [3.0, 7.0, 7.0, 7.0, 7.0]
    assert [row.best_arch for row in r.trace] == [SPACE.encode(A[0])] + [SPACE.encode(A[1])] * 4
    assert seen == [A[1]] and r.final == {"test_accuracy": 42.0}


def test_charged_side_evaluations_cost_budget_but_never_win():
    ev = Table({A[2]: (50.0, 10.0), A[3]: (40.0, 10.0), A[4]: (45.0, 10.0)})
    charges = [(A[0], Evaluation(1e9, 2.5)), (A[1], Evaluation(-math.inf, 1.25))]
    r = run_search(Scripted(SPACE, random.Random(0), A[2:5], charges=charges), ev, Budget(seconds=30, evaluations=3))
    kinds = [row.kind for row in r.trace]
    assert kinds == ["score", "score", "eval", "eval"]  # 3.75 + 10 + 10 = 23.75; the third eval would reach 33.75
    assert [row.time for row in r.trace] == [2.5, 3.75, 13.75, 23.75]
    assert r.trace[0].best_arch == "" and r.trace[0].best_signal == -math.inf
    assert r.best_arch == SPACE.encode(A[2]) and r.best_signal == 50.0 and r.n_evals == 2
    df = r.to_frame()
    assert list(df["kind"]) == kinds and list(df.columns[:2]) == ["strategy", "seed"]


def test_charges_do_not_count_as_evaluations():
    ev = Table({a: (1.0, 1.0) for a in A})
    charges = [(A[0], Evaluation(5.0, 1.0))] * 4
    r = run_search(Scripted(SPACE, random.Random(0), A[:3], charges=charges), ev, Budget(evaluations=3))
    assert r.n_evals == 3 and len(r.trace) == 7 and r.used_time == 7.0


def test_charge_that_does_not_fit_ends_search():
    ev = Table({A[2]: (50.0, 10.0)})
    charges = [(A[0], Evaluation(1.0, 8.0)), (A[1], Evaluation(1.0, 8.0))]
    with pytest.raises(NwotError, match="too small"):
        run_search(Scripted(SPACE, random.Random(0), A[2:3], charges=charges), ev, Budget(seconds=10))


def test_charge_kind_eval_is_refused():
    st = Scripted(SPACE, random.Random(0), [])
    with pytest.raises(NwotError, match="kind other than 'eval'"):
        st.charge(A[0], Evaluation(1.0, 1.0), "eval")


def test_budget_too_small_and_bad_budgets():
    ev = Table({A[0]: (1.0, 50.0)})
    with pytest.raises(NwotError, match="too small"):
        run_search(Scripted(SPACE, random.Random(0), A[:1]), ev, Budget(seconds=10))
    with pytest.raises(NwotError, match="seconds or evaluations"):
        Budget()
    with pytest.raises(NwotError, match="must be > 0"):
        Budget(seconds=0)
    with pytest.raises(NwotError, match="must be > 0"):
        Budget(evaluations=0)


def test_result_round_trips_through_dict():
    ev = Table({a: (float(k), 1.5) for k, a in enumerate(A)})
    r = run_search(Scripted(SPACE, random.Random(0), A), ev, Budget(evaluations=4), seed=7)
    back = SearchResult.from_dict(r.to_dict())
    assert back == r and back.to_frame().equals(r.to_frame())


# --- determinism of every registered strategy ------------------------------------------
@pytest.fixture(scope="module")
def toy():
    return ToyBenchmark("nb201")


def _run(name, toy, seed):
    ev = TableEvaluator(toy, SPACE, TableSignalConfig("cifar10", signal_seed="mean"))
    kw = {}
    if name == "area":
        kw["scorer"] = lambda a: Evaluation(float(sum(map(len, a))), 0.25)
    if name == "naswot":
        ev = lambda a: Evaluation(toy.valid(toy.index_of(a)), 0.5)  # noqa: E731
    st = get_strategy(name, SPACE, random.Random(seed), **kw)
    return run_search(st, ev, Budget(seconds=3000), seed=seed)


#: The strategies of this issue (other modules register theirs and test them in their own files).
STRATEGIES = ("random", "rea", "area", "reinforce", "bo", "lse", "naswot")


def test_strategies_are_registered():
    assert set(STRATEGIES) <= set(list_strategies())


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_is_deterministic_per_seed(name, toy):
    a, b, c = _run(name, toy, 3), _run(name, toy, 3), _run(name, toy, 4)
    assert a.to_frame().equals(b.to_frame()) and a.best_arch == b.best_arch
    assert [r.arch for r in a.trace] != [r.arch for r in c.trace]
    assert a.used_time <= 3000
