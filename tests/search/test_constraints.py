"""Issue 17, part 2: cost constraints (parsing, the missing-value rule, feasibility of every evaluated and
returned cell for every supported strategy, and no simulated time for rejected cells).

Data: the embedded NB201 table (HW-NAS-Bench columns) and the committed NASWOT score file
``benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz``; no shared data.
"""
from __future__ import annotations

import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest

import nwot
from nwot.cli.main import main
from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy
from nwot.search.constraints import Constrained, Constraint, FeasibleSet, MissingMetricWarning, parse_constraint
from nwot.search.loop import Budget
from nwot.search.run import benchmark_setup, proxy_setup

REPO = Path(__file__).resolve().parents[2]
SCORES = REPO / "benchmarks/results/nb201_cifar10_naswot_clean_seed0.csv.xz"
CONSTRAINTS = ("edgegpu_latency<=4", "params<=1.0")


@pytest.fixture(scope="module")
def df():
    return nwot.load_nb201_table()


@pytest.fixture(scope="module")
def expected_mask(df):
    """The feasible set computed independently from the table's columns."""
    return ((df["cifar10/edgegpu_latency"] <= 4) & (df["params"] <= 1.0)).to_numpy()


def test_parse_constraint():
    assert parse_constraint("edgegpu_latency<=5") == Constraint("edgegpu_latency", "<=", 5.0)
    assert parse_constraint("  params <= 1.0 ") == Constraint("params", "<=", 1.0)
    assert parse_constraint("flops>1e2") == Constraint("flops", ">", 100.0)
    assert str(parse_constraint("raspi4_latency<20")) == "raspi4_latency<20"
    c = parse_constraint("fpga_energy>=10.5")
    assert c.holds(10.5) and not c.holds(10.4) and not c.holds(None) and not c.holds(math.nan)


@pytest.mark.parametrize("text, match", [
    ("gpu_latency<=5", r"unknown constraint metric 'gpu_latency'; allowed: 'params', 'flops', 'edgegpu_latency'"),
    ("edgegpu_latency=<5", r"unknown constraint operator '=<'; allowed: '<=', '<', '>=', '>'"),
    ("edgegpu_latency~5", r"not METRIC OP VALUE.*metrics: params, flops, edgegpu_latency.*operators: <=, <, >=, >"),
    ("params<=abc", r"bound 'abc' is not a number"),
    ("params<=nan", r"finite number \(MB\)"),
])
def test_bad_constraints_list_what_is_allowed(text, match):
    with pytest.raises(NwotError, match=match):
        parse_constraint(text)


def test_feasible_set_matches_the_table(df, expected_mask):
    bench, space = nwot.get_benchmark("nb201"), nwot.get_space("nb201")
    fs = FeasibleSet(bench, space, CONSTRAINTS, "cifar10")
    assert np.array_equal(fs.mask, expected_mask) and fs.n_feasible == int(expected_mask.sum())
    i_bad = int(np.flatnonzero(~expected_mask)[0])
    arch = space.decode(df.arch[i_bad])
    assert not fs(arch) and fs.violations(arch) and fs.violation(arch) > 0
    assert fs(space.decode(df.arch[int(np.flatnonzero(expected_mask)[0])]))
    # the search dataset's network: ImageNet16-120 latencies differ from CIFAR-10's
    fs_in = FeasibleSet(bench, space, ["edgegpu_latency<=4"], "ImageNet16-120")
    assert fs_in.n_feasible == int((df["ImageNet16-120/edgegpu_latency"] <= 4).sum()) != fs.n_feasible


def test_missing_metric_is_infeasible_with_a_warning(df):
    bench, space = nwot.get_benchmark("nb201"), nwot.get_space("nb201")
    with pytest.warns(MissingMetricWarning, match=r"4,699 of 15,625 cells have no edgetpu_latency.*not measure"):
        fs = FeasibleSet(bench, space, ["edgetpu_latency<=100"], "cifar10")  # every measured cell is below 100 ms
    assert fs.n_feasible == 15_625 - 4_699 and fs.missing == {"edgetpu_latency<=100": 4699}
    assert not fs(space.decode(df.arch[6]))  # row 6: edgetpu_latency -1.0 in HW-NAS-Bench
    assert fs.violations(space.decode(df.arch[6])) == ["edgetpu_latency=not measured breaks edgetpu_latency<=100"]
    with pytest.raises(NwotError, match="no cell satisfies edgegpu_latency<0.1"):
        FeasibleSet(bench, space, ["edgegpu_latency<0.1"], "cifar10")


def _check_run(res, fs, bench, space):
    """Every traced cell is feasible; the charged time is exactly the traced evaluations' table costs."""
    assert res.trace, res
    for row in res.trace:
        assert fs(space.decode(row.arch)), (res.strategy, row.arch)
    assert fs(space.decode(res.best_arch))
    assert res.final["index"] == bench.index_of(res.best_arch)
    assert res.used_time == pytest.approx(sum(r.cost for r in res.trace), abs=1e-6)
    for row in res.trace:
        if row.kind == "eval":
            assert row.cost == bench.cost(row.arch, "cifar10-valid", 12)


@pytest.mark.parametrize("strategy", ["random", "rea", "reinforce", "bo", "lse", "area"])
def test_table_strategies_return_only_feasible_cells(strategy, expected_mask):
    setup = benchmark_setup("nb201", "cifar10", scores=SCORES, constraints=CONSTRAINTS)
    rep = setup.run(strategy, Budget(seconds=3000), runs=2, seed=0)
    bench, space = setup.benchmark, setup.space
    for res in rep.runs:
        if strategy == "area":  # the pre-scored pool is drawn from the constrained space too
            assert any(r.kind == "score" for r in res.trace)
            assert all(r.cost != bench.cost(r.arch, "cifar10-valid", 12) for r in res.trace if r.kind == "score")
        else:
            _check_run(res, setup.feasible, bench, space)
        assert all(expected_mask[bench.index_of(r.arch)] for r in res.trace)
        rejected = res.config["rejected_samples"] + res.config.get("guard_rejected", 0)
        assert rejected > 0, res.config  # infeasible cells were proposed, and none was evaluated or charged
        assert res.config["constraints"] == ["edgegpu_latency<=4", "params<=1"]
        assert res.config["feasible_cells"] == expected_mask.sum()


def test_unconstrained_runs_are_unchanged():
    """No constraints: the driver builds neither view nor guard, so the results are the old ones."""
    setup = benchmark_setup("nb201", "cifar10")
    assert setup.feasible is None
    a = setup.run("rea", Budget(seconds=3000), runs=1, seed=3).runs[0]
    assert "constraints" not in a.config and a.strategy == "rea"


def test_naswot_search_and_prescreen_respect_constraints(expected_mask):
    ps = proxy_setup("nb201", "cifar10", scores=SCORES, constraints=CONSTRAINTS)
    rep = ps.run("naswot", Budget(evaluations=50), runs=2, seed=0, options={"n": 50})
    for res in rep.runs:
        assert res.n_evals == 50 and all(expected_mask[ps.benchmark.index_of(r.arch)] for r in res.trace)
        assert res.config["rejected_samples"] > 0
    setup = benchmark_setup("nb201", "cifar10", scores=SCORES, constraints=CONSTRAINTS)
    for strategy in ("rea", "reinforce"):
        res = setup.run(strategy, Budget(seconds=3000), runs=1, seed=0, prescreen=3).runs[0]
        assert all(expected_mask[setup.benchmark.index_of(r.arch)] for r in res.trace)
        assert res.config["scored"] > 0


class _Batch(Strategy):
    """Asks fixed batches; records what it is told."""

    name = "batch"

    def __init__(self, space, rng, batches):
        super().__init__(space, rng)
        self.batches, self.told = list(batches), []

    def ask(self):
        return self.batches.pop(0) if self.batches else []

    def tell(self, archs, evals):
        self.told.append([(a, ev.failure is None) for a, ev in zip(archs, evals)])


def test_guard_tells_refusals_in_batch_order(df, expected_mask):
    bench, space = nwot.get_benchmark("nb201"), nwot.get_space("nb201")
    fs = FeasibleSet(bench, space, CONSTRAINTS, "cifar10")
    good = [space.decode(df.arch[i]) for i in np.flatnonzero(expected_mask)[:2]]
    bad = [space.decode(df.arch[i]) for i in np.flatnonzero(~expected_mask)[:3]]
    inner = _Batch(space, random.Random(0), [[bad[0]], [bad[1], good[0], bad[2], good[1]]])
    guard = Constrained(inner, fs)
    assert guard.ask() == [good[0], good[1]]  # the all-infeasible first batch was refused and told at once
    assert inner.told == [[(bad[0], False)]]
    guard.tell([good[0], good[1]], [Evaluation(90.0, 1.0), Evaluation(91.0, 1.0)])
    assert inner.told[1] == [(bad[1], False), (good[0], True), (bad[2], False), (good[1], True)]
    assert guard.rejected == 3 and guard.ask() == []


def test_cli_constraint(capsys):
    assert main(["search", "--strategy", "rea", "--budget", "3000", "--runs", "1", "--quiet", "--json",
                 "--constraint", "edgegpu_latency<=4", "--constraint", "params<=1.0"]) == 0
    out = capsys.readouterr().out
    assert '"constraints": [' in out and '"edgegpu_latency<=4"' in out
    assert main(["search", "--strategy", "rea", "--budget", "3000", "--quiet", "--constraint", "latency<5"]) == 2
    assert "unknown constraint metric 'latency'; allowed: 'params', 'flops'" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingMetricWarning)
        assert main(["search", "--strategy", "random", "--budget", "2000", "--quiet", "--csv",
                     "--constraint", "edgetpu_latency<=0.8"]) == 0


def test_bench_best_gives_the_true_constrained_optimum(capsys, df):
    """``nwot bench best --constraint``: the most accurate cell under the bound, checked against the table."""
    assert main(["bench", "best", "--dataset", "cifar10", "--constraint", "edgegpu_latency<=4", "--json"]) == 0
    out = capsys.readouterr().out
    ok = df["cifar10/edgegpu_latency"] <= 4
    expected = df.loc[ok, "cifar10/ori-test@200"]
    assert f'"index": {int(expected.idxmax())}' in out and f'"accuracy": {float(expected.max())!r}' in out
