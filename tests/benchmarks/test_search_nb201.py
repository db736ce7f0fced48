"""Searches on the embedded NAS-Bench-201 table (nwot/search/runner.py) and the benchmark script
(benchmarks/search_nb201.py), checked against the table itself."""
from __future__ import annotations

import importlib.util
import itertools
import json
import lzma
import random
import statistics
import sys
from pathlib import Path

import pandas as pd
import pytest

from nwot.adapters.embedded import load_nb201_table
from nwot.errors import NwotError
from nwot.search.run import NB201_DATASETS, run_strategy
from nwot.spaces.base import get_space

NB201 = get_space("nb201")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def df():
    return load_nb201_table()


def test_random_search_matches_an_independent_pandas_implementation(df):
    """RS with 12,000 s re-done on the DataFrame: the same draws, the same stop, the same best."""
    pos = {a: i for i, a in enumerate(df["arch"])}
    for seed in range(3):
        (res,) = run_strategy("random", "nb201", "cifar10", budget_seconds=12_000, seed=seed)
        rng, used, seen = random.Random(seed), 0.0, []
        while True:
            i = pos[NB201.encode(NB201.sample(rng))]
            c = df["cifar10-valid/cost@12"].iat[i]
            if used + c > 12_000:
                break
            used += c
            seen.append(i)
        best = max(seen, key=lambda i: (df["cifar10-valid/x-valid@12"].iat[i], -seen.index(i)))
        assert res.n_evals == len(seen) and res.used_time == pytest.approx(used, abs=1e-9)
        assert res.final["index"] == best
        assert res.best_signal == df["cifar10-valid/x-valid@12"].iat[best]
        assert res.final["test_accuracy"] == df["cifar10/ori-test@200"].iat[best]


def test_rs_and_rea_give_sane_nb201_results(df):
    best_possible = df["cifar10/ori-test@200"].max()
    assert round(best_possible, 2) == 94.37
    out = {}
    for strat in ("random", "rea"):
        res = run_strategy(strat, "nb201", "cifar10", budget_seconds=12_000, runs=25,
                           report_datasets=NB201_DATASETS)
        for r in res:
            i = r.final["index"]
            assert r.used_time <= 12_000 and 70 < r.n_evals < 160  # mean cost 109.7 s per 12-epoch query
            assert r.best_signal == df["cifar10-valid/x-valid@12"].iat[i] <= df["cifar10-valid/x-valid@12"].max()
            for d, col in zip(NB201_DATASETS, ("cifar10/ori-test@200", "cifar100/x-test@200",
                                               "ImageNet16-120/x-test@200")):
                assert r.final[f"test_accuracy/{d}"] == df[col].iat[i] <= df[col].max()
            assert r.config["search_evaluator"]["signal_seed"] == "mean"
        out[strat] = statistics.fmean(r.final["test_accuracy"] for r in res)
    # NB201 Table 5: RS 93.70, REA 93.92 (500 runs); the best cell is 94.37
    assert 93.0 < out["random"] < out["rea"] < best_possible


def test_rea_with_a_large_budget_finds_the_best_12_epoch_cell(df):
    (r,) = run_strategy("rea", "nb201", "cifar10", evaluations=3000, seed=1)
    assert r.final["index"] == int(df["cifar10-valid/x-valid@12"].idxmax())  # index 13714
    assert r.best_signal == df["cifar10-valid/x-valid@12"].max()


def test_runner_options_are_explicit():
    with pytest.raises(NwotError, match="needs a budget"):
        run_strategy("rea", "nb201", "cifar10")
    with pytest.raises(NwotError, match="signal_seed='mean'"):
        run_strategy("rea", "nb201", "cifar10", budget_seconds=1000, signal_seed="random")
    with pytest.raises(NwotError, match="cost='scaled'"):
        run_strategy("rea", "nb201", "cifar100", budget_seconds=1000)
    (r,) = run_strategy("rea", "nb201", "cifar100", budget_seconds=40_000, cost="scaled", population_size=5)
    assert r.config["search_evaluator"]["cost_scale"] == 2.0 and r.config["population_size"] == 5
    assert r.config["report_datasets"] == ["cifar100"]


def test_runner_area_and_naswot_with_stored_scores(tmp_path, df):
    # a stand-in score file: score = 200-epoch cifar10 test accuracy, 0.5 s per cell
    p = tmp_path / "scores.csv"
    p.write_text("index,arch,score,seconds\n" + "".join(f"{i},{a},{v!r},0.5\n" for i, (a, v) in
                                                      enumerate(zip(df["arch"], df["cifar10/ori-test@200"]))))
    (a,) = run_strategy("area", "nb201", "cifar10", budget_seconds=12_000, scores=str(p), seed=2)
    kinds = [row.kind for row in a.trace]
    assert kinds[:20] == ["score"] * 20 and a.trace[19].time == 10.0
    assert a.config["scorer"]["evaluator"] == "stored_score"
    runs = run_strategy("naswot", "nb201", "cifar10", evaluations=100, scores=str(p), runs=2)
    for r in runs:
        assert r.n_evals == 100 and r.used_time == 50.0
        assert r.best_signal == max(row.signal for row in r.trace) == r.final["test_accuracy"]


# --- the benchmark script -------------------------------------------------------------------
def _script(monkeypatch):
    spec = importlib.util.spec_from_file_location("search_nb201_script", REPO / "benchmarks" / "search_nb201.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as `python benchmarks/x.py` does: finds _common
    monkeypatch.setitem(sys.modules, spec.name, mod)  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_script_writes_table_traces_curves_and_resumes(tmp_path, capsys, monkeypatch):
    mod = _script(monkeypatch)
    args = ["--runs", "2", "--strategies", "random,rea,area", "--settings", "nb201/cifar10,nats/cifar100",
            "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "out"), "--quiet", "--no-plot"]
    assert mod.main(args) == 0
    err = capsys.readouterr().err
    assert "skipping AREA on nb201/cifar10" in err and "--scores not given" in err
    out = tmp_path / "out"
    rows = json.loads((out / "search_nb201.json").read_text())["rows"]
    runs = [json.loads(line) for line in lzma.open(out / "search_nb201_traces.jsonl.xz", "rt")]
    assert len(runs) == 8  # 2 settings x 2 strategies x 2 runs
    # the table is the mean of the runs' final accuracies
    for row in rows:
        key = "nb201/cifar10" if row["protocol"] == "nb201" else "nats/cifar100"
        accs = [r["final"][f"test_accuracy/{row['report_dataset']}"] for r in runs
                if r["setting"] == key and r["strategy"] == row["strategy"]]
        assert row["runs"] == 2 and row["test_mean"] == pytest.approx(statistics.fmean(accs))
    nb = {(r["strategy"], r["report_dataset"]): r for r in rows if r["protocol"] == "nb201"}
    assert nb[("rea", "cifar10")]["published_mean"] == 93.92
    assert nb[("random", "ImageNet16-120")]["published_std"] == 1.25
    # traces: indices whose cumulative cost is the run's used time, within budget
    df = load_nb201_table()
    for r in runs:
        scale = 2.0 if r["setting"] == "nats/cifar100" else 1.0
        costs = [df["cifar10-valid/cost@12"].iat[i] * scale for i in r["trace"]["index"]]
        assert list(itertools.accumulate(costs))[-1] == pytest.approx(r["used_time"], rel=1e-12)
        assert r["used_time"] <= (12_000 if r["setting"] == "nb201/cifar10" else 40_000)
    md = (out / "search_nb201.md").read_text()
    assert "| REA | 2 |" in md and "93.92 ± 0.30" in md and "git commit" in md and "command" in md
    curves = (out / "search_nb201_curves.csv").read_text().splitlines()
    assert curves[0] == "setting,strategy,report_dataset,time,runs,mean,std"
    # resume: a second invocation with one more run only does the new runs
    assert mod.main([a if a != "2" else "3" for a in args]) == 0
    assert "12 runs requested, 8 already in" in capsys.readouterr().err


def test_script_area_pool_sizes_quarter_budget_noise_and_cifar10_score_fallback(tmp_path, capsys, monkeypatch, df):
    mod = _script(monkeypatch)
    p = tmp_path / "scores.csv"  # stand-in scores = 200-epoch cifar10 test accuracy, 0.5 s per cell
    p.write_text("index,arch,score,seconds\n" + "".join(f"{i},{a},{v!r},0.5\n" for i, (a, v) in
                                                      enumerate(zip(df["arch"], df["cifar10/ori-test@200"]))))
    args = ["--runs", "2", "--strategies", "rea,area,naswot", "--area-m", "20,100", "--naswot-n", "10",
            "--settings", "nb201/cifar10/quarter,nb201/cifar10/noise,nats/cifar100", "--signal-noise", "0.5",
            "--scores", str(p), "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "out"), "--quiet",
            "--no-plot"]
    assert mod.main(args) == 0
    runs = [json.loads(line) for line in lzma.open(tmp_path / "out" / "search_nb201_traces.jsonl.xz", "rt")]
    got = {(r["setting"], r["strategy"]) for r in runs}
    assert got == {(s, t) for s in ("nb201/cifar10/quarter", "nb201/cifar10/noise", "nats/cifar100")
                   for t in ("rea", "area", "area-m100")} | {("nats/cifar100", "naswot-n10")}
    costs = df["cifar10-valid/cost@12"].to_numpy()
    for r in runs:
        if r["strategy"].startswith("area"):
            m = 100 if r["strategy"] == "area-m100" else 20
            assert r["trace"]["kind"][:m] == ["score"] * m  # M cells pre-scored, each charged 0.5 s
            scale = 2.0 if r["setting"] == "nats/cifar100" else 1.0
            used = 0.5 * m + sum(costs[i] * scale for i, k in zip(r["trace"]["index"], r["trace"]["kind"])
                                 if k == "eval")
            assert used == pytest.approx(r["used_time"], rel=1e-12)
        if r["setting"] == "nb201/cifar10/quarter":
            assert r["used_time"] <= 3_000
        if r["setting"] == "nats/cifar100" and r["strategy"] != "rea":
            assert r["score_dataset"] == "cifar10"  # CIFAR-100 images absent: the CIFAR-10 scores, labelled
    rows = json.loads((tmp_path / "out" / "search_nb201.json").read_text())["rows"]
    q = [r for r in rows if r["setting"] == "nb201/cifar10/quarter"]
    assert {r["budget_s"] for r in q} == {3000.0} and all(pd.isna(r["published_mean"]) for r in q)
    col = {"cifar10": "cifar10-valid/x-valid@200", "cifar100": "cifar100/x-valid@200",
           "ImageNet16-120": "ImageNet16-120/x-valid@200"}
    for row in rows:  # validation accuracy of the chosen cells (the NASWOT paper reports AREA this way)
        best = [r["best_index"] for r in runs if r["setting"] == row["setting"] and r["strategy"] == row["strategy"]]
        assert row["valid_mean"] == pytest.approx(statistics.fmean(df[col[row["report_dataset"]]].iloc[best]))
    n = [r for r in rows if r["setting"] == "nb201/cifar10/noise" and r["strategy"] == "rea"]
    assert n[0]["signal_noise"] == 0.5 and n[0]["published_mean"] is not None
    md = (tmp_path / "out" / "search_nb201.md").read_text()
    assert "| AREA (M=100) |" in md and "a quarter of the NB201 budget" in md and "SD 0.50" in md and " †" in md
    nats_rows = [ln for ln in md.splitlines() if ln.startswith("| ") and "(2)" in ln]  # NATS table cells: "mean (runs)"
    assert any("†" in ln for ln in nats_rows if ln.startswith("| AREA"))
    assert not any("†" in ln for ln in nats_rows if ln.startswith("| REA |"))  # table lookups use no scores
    # the noise changes the REA runs (the signal differs), the same seeds without noise do not
    quiet = run_strategy("rea", "nb201", "cifar10", budget_seconds=12_000, seed=0)[0]
    noisy = next(r for r in runs if r["setting"] == "nb201/cifar10/noise" and r["strategy"] == "rea" and r["run"] == 0)
    assert noisy["seed"] == quiet.seed and noisy["best_signal"] != quiet.best_signal
