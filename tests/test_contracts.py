"""Contracts every registered space, benchmark, evaluator and strategy keeps (parametrised over the registries,
so a new entry is tested by itself: STYLE habit 11)."""
from __future__ import annotations

import random

import pytest
import torch
import torch.nn as nn

import nwot
from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import STRATEGIES, strategy_class, strategy_options
from nwot.search.loop import Budget, run_search
from nwot.spaces.base import SearchSpace

#: Spaces that can sample without external files (NDS spaces sample from their records).
SAMPLING_SPACES = [s for s in nwot.list_spaces() if not s.startswith("nds:")]


def test_registries_list_the_built_ins():
    assert {"nb201", "nats_sss", "nb101", "pnas", "blockqnn"} <= set(nwot.list_spaces())
    assert {f"nds:{s}" for s in ("Amoeba", "DARTS", "ENAS", "NASNet", "PNAS", "ResNet", "ResNeXt-A", "ResNeXt-B",
                                 "Vanilla")} <= set(nwot.list_spaces())
    assert {"table", "nb201", "nats-tss", "nats-sss", "nb201-api", "nb101", "nds"} <= set(nwot.list_benchmarks())
    assert set(nwot.list_evaluators()) == {"benchmark", "proxy", "stored", "train"}
    assert {"naswot", "random", "rea", "area", "reinforce", "bo", "lse", "pnas", "blockqnn"} <= set(
        nwot.list_strategies())


@pytest.mark.parametrize("name", nwot.list_spaces())
def test_space_protocol(name):
    sp = nwot.get_space(name)
    assert isinstance(sp, SearchSpace) and sp.name == name


@pytest.mark.parametrize("name", SAMPLING_SPACES)
def test_space_sample_mutate_encode_roundtrip_and_build(name):
    sp = nwot.get_space(name)
    rng = random.Random(0)
    a = sp.sample(rng)
    assert sp.decode(sp.encode(a)) == a
    child = sp.mutate(a, rng)
    assert sp.encode(child) != sp.encode(a) and sp.decode(sp.encode(child)) == child
    kwargs = {"C": 4, "N": 1} if name in ("nb201", "pnas", "blockqnn") else {}
    model = sp.build(a, num_classes=10, compat="clean", **kwargs)
    assert isinstance(model, nn.Module)
    with torch.no_grad():
        out = model.eval()(torch.randn(2, 3, 32, 32))
    logits = out[0] if isinstance(out, (tuple, list)) else out
    assert tuple(logits.shape) == (2, 10)
    with pytest.raises(NwotError, match="compat"):
        sp.build(a, num_classes=10, compat="paper", **kwargs)


@pytest.mark.parametrize("name", nwot.list_benchmarks())
def test_benchmark_names_are_registered_factories(name):
    from nwot.adapters.base import BENCHMARKS

    assert callable(BENCHMARKS.get(name))


def test_unknown_names_list_what_is_allowed():
    for get, kind in ((nwot.get_space, "search space"), (nwot.get_benchmark, "benchmark"),
                      (nwot.get_evaluator, "evaluator")):
        with pytest.raises(NwotError, match=f"unknown {kind} 'nope'; allowed: "):
            get("nope")
    with pytest.raises(NwotError, match="unknown search strategy 'nope'; allowed: .*naswot"):
        strategy_class("nope")


def test_a_failing_builtin_module_raises_naming_it():
    from nwot.registry import Registry

    reg = Registry("thing", builtins=("nwot.no_such_module",))
    with pytest.raises(NwotError, match="built-in thing module nwot.no_such_module failed to import"):
        reg.names()


def _toy_evaluator(space):
    """A deterministic signal: the arch encoding's hash mod 100 (no benchmark needed)."""
    def evaluate(a):
        return Evaluation(signal=float(hash(space.encode(a)) % 1000) / 10, cost=1.0)
    return evaluate


@pytest.mark.parametrize("name", sorted(n for n in STRATEGIES.names() if not strategy_class(n).needs))
def test_every_strategy_runs_on_the_loop_and_keeps_its_budget(name):
    sp = nwot.get_space("nb201")
    cls = strategy_class(name)
    opts = {"beam": 4, "surrogate": "mlp"} if name == "pnas" else {}
    st = nwot.get_strategy(name, sp, random.Random(1), **opts)
    ev = _toy_evaluator(sp)
    res = run_search(st, ev, Budget(evaluations=12))
    assert 1 <= res.n_evals <= 12 and len([r for r in res.trace if r.kind == "eval"]) == res.n_evals
    best = max((r for r in res.trace if r.kind == "eval"), key=lambda r: r.signal)
    assert res.best_signal == best.signal
    assert cls.signal in ("benchmark", "score")
    assert set(strategy_options(name)).isdisjoint(cls.needs)


def test_a_strategy_that_needs_a_scorer_says_so():
    sp = nwot.get_space("nb201")
    with pytest.raises(NwotError, match="strategy 'area' needs scorer"):
        nwot.get_strategy("area", sp, random.Random(0))
