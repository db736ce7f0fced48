"""benchmarks/nds_study.py end to end on the fixture files (tests/data/nds: real NDS schema, tiny networks)."""
import csv
import importlib.util
import json
import math
import random
import shutil
import sys
from pathlib import Path

import pytest
import torch
from scipy import stats

from nwot.data.datasets import scoring_batch
from nwot.errors import NwotError
from nwot.proxies.naswot import naswot_score
from nwot.seeding import torch_seed
from nwot.spaces.nds.anynet_model import build_from_net as build_anynet_net
from nwot.spaces.nds.cell_model import build_from_net as build_cell_net

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[1] / "data" / "nds"
sys.path.insert(0, str(ROOT / "benchmarks"))  # as `python benchmarks/x.py` does: finds _common
spec = importlib.util.spec_from_file_location("nds_study", ROOT / "benchmarks" / "nds_study.py")
nds_study = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nds_study)

FILES = sorted(p.name for p in DATA.glob("*.json"))  # 9 spaces + Vanilla_reruns
BATCH = 16


@pytest.fixture(autouse=True)
def restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def rows_of(out):
    with open(out / "nds_scores.csv", newline="") as f:
        return list(csv.DictReader(f))


def raw_jobs(name):
    d = json.loads((DATA / name).read_text())
    return d if isinstance(d, list) else d["top"] + d["mid"]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("nds_study")
    assert nds_study.main(["--dir", str(DATA), "--batch-size", str(BATCH), "--out", str(out), "--quiet"]) == 0
    return out


def test_every_record_scored_with_its_accuracy(full_run):
    rows = rows_of(full_run)
    expected = {(name, i): 100 - job["test_ep_top1"][-1] for name in FILES for i, job in enumerate(raw_jobs(name))}
    assert len(rows) == len(expected) == 9 * 4 + 3
    for r in rows:
        assert float(r["accuracy"]) == expected[(r["file"], int(r["index"]))]
        assert math.isfinite(float(r["score"])) and float(r["score"]) > 0
    # the two records whose params are hand counts (tests/spaces/test_nds_models.py) agree with the built networks
    by_key = {(r["file"], int(r["index"])): r for r in rows}
    for key, n in ((("ResNet.json", 0), 20906), (("Vanilla.json", 0), 20026), (("Vanilla_reruns.json", 1), 20026)):
        assert int(by_key[key]["params_model"]) == n and float(by_key[key]["params_record"]) == n


def test_summary_correlations_are_scipys_and_plots_exist(full_run):
    summary = json.loads((full_run / "nds_summary.json").read_text())
    rows = rows_of(full_run)
    assert sorted(summary["files"]) == FILES and summary["skipped_imagenet_files"] == []
    assert summary["settings"] == {"batch_size": BATCH, "batch_seed": 0, "init_seed": 0, "compat": "clean",
                                   "data_dir": None}
    for name, s in summary["files"].items():
        mine = [r for r in rows if r["file"] == name]
        score = [float(r["score"]) for r in mine]
        acc = [float(r["accuracy"]) for r in mine]
        assert s["n"] == s["n_finite"] == len(mine)
        assert s["kendall_tau"] == pytest.approx(stats.kendalltau(score, acc).statistic, abs=1e-12)
        assert s["spearman_rho"] == pytest.approx(stats.spearmanr(score, acc).statistic, abs=1e-12)
        png = full_run / s["plot"]
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert summary["files"]["ResNet.json"]["space"] == "ResNet"


def test_a_stored_score_equals_direct_scoring(full_run):
    rows = {(r["file"], int(r["index"])): r for r in rows_of(full_run)}
    images = scoring_batch("cifar10", BATCH, seed=0)
    for name, i, build in (("ResNeXt-A.json", 2, build_anynet_net), ("PNAS.json", 1, build_cell_net)):
        with torch_seed(0):
            model = build(raw_jobs(name)[i]["net"])
        assert float(rows[(name, i)]["score"]) == naswot_score(model, images)


def test_resume_scores_nothing_new_and_refuses_other_settings(full_run):
    before = (full_run / "nds_scores.csv").read_text()
    args = nds_study.parse_args(["--dir", str(DATA), "--batch-size", str(BATCH), "--out", str(full_run), "--quiet"])
    assert nds_study.run(args)["newly_scored"] == 0
    assert (full_run / "nds_scores.csv").read_text() == before
    with pytest.raises(NwotError, match=r"scored with other settings \{'init_seed': \(0, 1\)\}"):
        nds_study.main(["--dir", str(DATA), "--batch-size", str(BATCH), "--init-seed", "1", "--out", str(full_run),
                        "--quiet"])


def test_seeded_sample_and_imagenet_files_skipped(tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    shutil.copy(DATA / "Vanilla.json", src / "Vanilla.json")
    shutil.copy(DATA / "DARTS.json", src / "DARTS_in.json")
    out = tmp_path / "out"
    args = nds_study.parse_args(["--dir", str(src), "--n", "2", "--sample-seed", "7", "--batch-size", str(BATCH),
                                 "--out", str(out), "--quiet"])
    summary = nds_study.run(args)
    assert summary["skipped_imagenet_files"] == [str(src / "DARTS_in.json")]
    assert sorted(int(r["index"]) for r in rows_of(out)) == sorted(random.Random(7).sample(range(4), 2))
    assert summary["files"]["Vanilla.json"]["n"] == 2


def test_cli_needs_an_input():
    with pytest.raises(SystemExit):
        nds_study.parse_args([])
