"""The papers' comparison runner (resumable) and one fast end-to-end check per script."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from nwot.errors import NwotError
from nwot.search.loop import Budget
from nwot.search.run import benchmark_setup
from nwot.study.trained_comparison import Job, interleaved_jobs, load_runs, run_jobs

REPO = Path(__file__).resolve().parents[2]


class Counting:
    """A setup that counts its runs."""

    def __init__(self, setup):
        self.setup, self.calls = setup, []

    def run(self, strategy, budget, **kw):
        self.calls.append((strategy, kw["seed"]))
        return self.setup.run(strategy, budget, **kw)


def test_jobs_interleave_seeds_and_a_comparison_resumes_without_rerunning(tmp_path):
    jobs = interleaved_jobs({"rea": ("rea", "t", {"population_size": 3}), "random": ("random", "t", {})}, 2)
    assert [j.key for j in jobs] == [("rea", 0), ("random", 0), ("rea", 1), ("random", 1)]
    setup = Counting(benchmark_setup("nb201", "cifar10"))
    out = tmp_path / "runs.jsonl"
    first = run_jobs(jobs[:3], {"t": setup}, Budget(evaluations=5), out, config={"commit": "abc"})
    assert len(setup.calls) == 3 and first[0]["config"]["commit"] == "abc" and first[0]["config"]["label"] == "rea"
    assert first[0]["config"]["population_size"] == 3 and len(first[0]["trace"]) == 5
    # a torn last line (killed mid-append) is ignored and that run redone; finished runs are not
    text = out.read_text().splitlines()
    out.write_text("\n".join(text[:2]) + "\n" + text[2][:40])
    again = run_jobs(jobs, {"t": setup}, Budget(evaluations=5), out)
    assert setup.calls[3:] == [("rea", 1), ("random", 1)]
    assert [r["best_signal"] for r in again[:2]] == [r["best_signal"] for r in first[:2]]
    assert again[2]["best_signal"] == first[2]["best_signal"]  # same seed, same run
    assert len(load_runs(out)) == 4
    with pytest.raises(NwotError, match="setups \\['x'\\]"):
        run_jobs([Job("a", "random", "x", 0)], {"t": setup}, Budget(evaluations=1), out)
    with pytest.raises(NwotError, match="share a \\(label, seed\\)"):
        run_jobs([jobs[0], jobs[0]], {"t": setup}, Budget(evaluations=1), out)


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


TINY_TRAIN = ["--seeds", "1", "--train-evaluations", "2", "--train-size", "32", "--val-size", "16",
              "--test-images", "16"]


def test_regevo_script_end_to_end(tmp_path, cut_data):
    mod = _script("regevo_comparison")
    assert mod.main(["--part", "table", "--runs", "2", "--evaluations", "30", "--out", str(tmp_path)]) == 0
    js = json.loads((tmp_path / "regevo_comparison.json").read_text())
    assert js["table"]["runs"] == {"rea": 2, "reinforce": 2, "random": 2} and js["table"]["steps"] == [10, 25]
    # REA's first 10 models are its random initial population: the same draws as random search with the seed
    assert js["table"]["at"]["rea"]["signal"]["mean"]["10"] == js["table"]["at"]["random"]["signal"]["mean"]["10"]
    assert mod.main(["--part", "train", *TINY_TRAIN, "--data-dir", str(cut_data.path), "--out", str(tmp_path),
                     "--checkpoint-dir", str(tmp_path / "ckpt")]) == 0
    runs = load_runs(tmp_path / "regevo_nasnet_cpu_runs.jsonl")
    assert sorted(r["label"] for r in runs) == ["random", "rea", "reinforce"]
    assert all(r["n_evals"] == 2 and r["space"] == "nasnet" and "test_accuracy" in r["final"] for r in runs)
    assert (tmp_path / "regevo_comparison.png").is_file()
    md = (tmp_path / "regevo_comparison.md").read_text()
    assert "real training" in md and "| rea (test) |" in md


def test_pnas_script_end_to_end(tmp_path, cut_data):
    mod = _script("pnas_efficiency")
    assert mod.main(["--part", "table", "--runs", "2", "--beams", "4", "--budget", "40", "--out", str(tmp_path)]) == 0
    eff = json.loads((tmp_path / "pnas_efficiency.json").read_text())["table"]["efficiency"]
    per = eff["top-1"]["top 5%"]
    assert set(per) == {"pnas-k4", "reinforce", "random"}
    assert all(len(s["values"]) == 2 for s in per.values()) and per["reinforce"]["budget"] == 40
    assert mod.main(["--part", "train", *TINY_TRAIN, "--data-dir", str(cut_data.path), "--out", str(tmp_path),
                     "--checkpoint-dir", str(tmp_path / "ckpt")]) == 0
    runs = load_runs(tmp_path / "pnas_efficiency_pnas_cpu_runs.jsonl")
    assert [r["label"] for r in runs] == ["pnas", "reinforce"] and all(r["space"] == "pnas" for r in runs)
    assert all(r["best_arch"].count("+") == 1 for r in runs if r["label"] == "reinforce")  # exactly 2 blocks


def test_blockqnn_script_end_to_end(tmp_path, cut_data):
    mod = _script("blockqnn_comparison")
    assert mod.main(["--part", "table", "--grid-step", "0.05", "--out", str(tmp_path)]) == 0
    t = json.loads((tmp_path / "blockqnn_reward_nb201.json").read_text())
    assert t["cells"] == 15624  # every NB201 cell but the all-none one
    res = t["finals"]["cifar10-valid/x-valid@200"]
    # the uncorrected early-stop ranking is what the paper-sign fit can never do worse than on its fit half
    assert res["flops+density (paper sign)"]["spearman_fit"] >= res["uncorrected"]["all"]["spearman"] - 0.01
    assert res["flops+density (free sign)"]["spearman_fit"] >= res["flops+density (paper sign)"]["spearman_fit"]
    assert mod.main(["--part", "train", *TINY_TRAIN, "--data-dir", str(cut_data.path), "--out", str(tmp_path),
                     "--checkpoint-dir", str(tmp_path / "ckpt")]) == 0
    runs = load_runs(tmp_path / "blockqnn_blocks_cpu_runs.jsonl")
    assert [r["label"] for r in runs] == ["blockqnn", "random"] and all(r["space"] == "blockqnn" for r in runs)
    assert (tmp_path / "blockqnn_comparison.png").is_file()
