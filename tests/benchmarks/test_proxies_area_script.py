"""benchmarks/proxies_area.py: the ensemble pre-score is the mean normalised rank of NASWOT and FLOPs, checked
by hand on known cells, and AREA with it returns cells the NB201 table knows."""
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import proxies_area  # noqa: E402

import nwot  # noqa: E402
from nwot.scores.files import read_scores  # noqa: E402


def test_ensemble_score_is_the_mean_normalised_rank_of_naswot_and_flops():
    ens = proxies_area.ensemble_scores().set_index("index")
    nas = read_scores(proxies_area.NASWOT_SCORES)
    flops = nwot.load_nb201_table()["flops"].reindex(nas.index).to_numpy()
    n = len(nas)
    assert len(ens) == n == 15625
    r_nas = stats.rankdata(nas["score"].to_numpy()) / n  # -inf (singular kernels) ranks lowest
    r_flops = stats.rankdata(flops) / n
    for i in (0, 6111, 14602):  # the first cell, the README's cell, a NASWOT pick
        assert ens.loc[i, "score"] == np.float64((r_nas[i] + r_flops[i]) / 2)
        assert ens.loc[i, "seconds"] == nas.loc[i, "seconds"]  # FLOPs are free: the cost is NASWOT's
    assert ens["score"].between(0, 1).all()


def test_area_with_the_ensemble_runs_on_the_table(tmp_path):
    out = tmp_path / "res"
    out.mkdir()
    assert proxies_area.main(["--runs", "2", "--candidates", "20", "--out", str(out)]) == 0
    text = (out / "proxies_area.md").read_text()
    assert "AREA, ensemble pre-score | 20 |" in text and "REA (no pre-score)" in text
