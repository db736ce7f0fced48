"""Public API (nwot.score_arch / nwot.naswot_search) and the `nwot score|search` CLI, checked against independent
recomputation."""
import json
import random

import pytest

import nwot
from nwot.adapters.embedded import load_nb201_table
from nwot.cli.main import main
from nwot.data.datasets import scoring_batch
from nwot.proxies.naswot import naswot_score
from nwot.seeding import torch_seed
from nwot.spaces.nb201.codec import format_arch, op_vector, parse_arch
from nwot.spaces.nb201.model import build_nb201

B = 16  # small batch: these tests check wiring, the scorer itself is tested in test_score.py
ARCH_6111 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def _direct_score(arch_str, seed, batch_size=B):
    with torch_seed(seed):
        model = build_nb201(parse_arch(arch_str), num_classes=10)
    return naswot_score(model, scoring_batch("cifar10", batch_size=batch_size, seed=seed))


def test_score_by_index_string_and_vector_agree_with_direct_scoring():
    table = load_nb201_table()
    assert table["arch"].iat[6111] == ARCH_6111
    by_index = nwot.score_arch(6111, batch_size=B, seed=3)
    by_string = nwot.score_arch(ARCH_6111, batch_size=B, seed=3)
    by_vector = nwot.score_arch(op_vector(parse_arch(ARCH_6111)), batch_size=B, seed=3)
    assert by_index.index == by_string.index == by_vector.index == 6111
    assert by_index.score == by_string.score == by_vector.score == _direct_score(ARCH_6111, 3)
    assert round(by_index.test_accuracy, 2) == 94.37
    assert by_index.test_accuracy == table["cifar10/ori-test@200"].iat[6111]
    assert by_index.config["batch_size"] == B and by_index.config["compat"] == "clean"


def test_search_keeps_the_highest_scoring_sample_of_each_run():
    n, runs, seed = 5, 2, 7
    rep = nwot.naswot_search(n=n, runs=runs, seed=seed, batch_size=B)
    table = load_nb201_table()
    space = nwot.get_space("nb201")
    assert len(rep.runs) == runs
    for r, res in enumerate(rep.runs):
        s = seed + r
        rng = random.Random(s)
        sampled = [format_arch(space.sample(rng)) for _ in range(n)]  # uniform, with replacement
        scores = [_direct_score(a, s) for a in sampled]
        best = sampled[max(range(n), key=lambda i: scores[i])]
        assert res.n_evals == n and [row.arch for row in res.trace] == sampled
        assert res.best_arch == best and res.best_signal == max(scores)
        idx = int(table.index[table["arch"] == best][0])
        acc = table["cifar10/ori-test@200"].iat[idx]  # the same AccuracyReport as the table strategies
        assert res.final == {"index": idx, "test_accuracy": acc, "test_accuracy/cifar10": acc}
    df = rep.to_frame()
    assert list(df["seed"]) == [seed, seed + 1]
    summ = rep.summary()
    assert summ["runs"] == runs
    assert summ["test_accuracy_mean"] == pytest.approx(df["test_accuracy"].mean())


def test_cli_score_prints_score_and_accuracy(capsys):
    assert main(["score", "6111", "--batch-size", str(B), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "index          6111" in out and "test accuracy  94.37" in out
    assert f"{_direct_score(ARCH_6111, 3):.6f}" in out


def test_cli_search_json(capsys):
    assert main(["search", "-n", "3", "--runs", "2", "--seed", "1", "--batch-size", str(B), "--quiet", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in doc["runs"]] == [1, 2] and doc["summary"]["runs"] == 2
    assert all(r["n_evals"] == 3 for r in doc["runs"])


@pytest.mark.parametrize("argv, message", [
    (["score", "|nor_conv_3x3~0|+|bogus~0|none~1|+|none~0|none~1|none~2|"], "unknown NB201 op 'bogus'"),
    (["score", "15625"], "NB201 index 15625 out of range; allowed 0..15624"),
    (["score", "12", "--compat", "paper"], None),
])
def test_cli_bad_input_is_a_clear_error(capsys, argv, message):
    if message is None:  # argparse rejects unknown choices itself (exit 2, names the allowed values)
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2 and "'clean', 'reference'" in capsys.readouterr().err
        return
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for cmd in ("score", "search", "bench", "score-space"):
        assert cmd in out


def test_cli_train_evaluator_needs_a_model_budget(capsys):
    assert main(["search", "--strategy", "pnas", "--space", "pnas", "--evaluator", "train", "--quiet"]) == 2
    assert "--evaluator train needs --evaluations" in capsys.readouterr().err


def test_cli_strategy_options_reach_the_strategy(capsys, tmp_path):
    from nwot.search.run import run_strategy

    argv = ["search", "--strategy", "rea", "--budget", "4000", "--runs", "2", "--seed", "5", "--quiet", "--json",
            "-o", "population_size=5", "--option", "sample_size=2", "--signal-noise", "0.3"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    direct = run_strategy("rea", budget_seconds=4000, runs=2, seed=5, population_size=5, sample_size=2,
                          signal_noise=0.3)
    assert [r["best_arch"] for r in doc["runs"]] == [r.best_arch for r in direct]
    assert [r["test_accuracy"] for r in doc["runs"]] == [r.final["test_accuracy"] for r in direct]
    assert [r["best_signal"] for r in doc["runs"]] == [r.best_signal for r in direct]


@pytest.mark.parametrize("argv, message", [
    (["--strategy", "rea", "--budget", "4000", "-o", "pool=3"],
     "strategy 'rea' has no option 'pool'; its options: population_size, sample_size"),
    (["--strategy", "rea", "--budget", "4000", "-o", "population_size"], "--option must be KEY=VALUE"),
    (["-n", "5", "-o", "population_size=3"], "strategy 'naswot' has no option 'population_size'; its options: n"),
    (["--strategy", "rea", "--budget", "4000", "--signal-noise", "-1"], "signal_noise must be a finite number >= 0"),
])
def test_cli_bad_strategy_options(capsys, argv, message):
    assert main(["search", "--quiet", *argv]) == 2
    assert message in capsys.readouterr().err


def test_cli_naswot_refuses_a_simulated_time_budget(capsys):
    assert main(["search", "--strategy", "naswot", "--budget", "12000", "--quiet"]) == 2
    assert "--strategy naswot scores -n N random cells" in capsys.readouterr().err
