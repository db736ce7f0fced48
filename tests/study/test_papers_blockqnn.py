"""BlockQNN's early-stop reward correction study (nwot.study.blockqnn_compare) on hand-made data."""
from __future__ import annotations

import numpy as np
import pytest

from nwot.errors import NwotError
from nwot.study import blockqnn_compare as bq


def test_density_of_nb201_cells_is_edges_over_four_nodes():
    assert bq.nb201_density("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|") == 0.5
    assert bq.nb201_density("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|") == 0.0
    full = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    assert bq.nb201_density(full) == 1.5


def test_corrected_reward_is_the_papers_formula():
    r = bq.corrected(np.array([0.5]), np.log(np.array([100.0])), np.log(np.array([2.0])), mu=0.01, rho=0.1)
    assert r[0] == pytest.approx(0.5 - 0.01 * np.log(100) - 0.1 * np.log(2))


def test_fit_recovers_a_planted_correction_and_respects_the_papers_sign():
    rng = np.random.default_rng(0)
    n = 400
    acc = rng.uniform(0.3, 0.8, n)
    lf = rng.uniform(1.0, 5.0, n)
    ld = rng.uniform(-1.0, 0.5, n)
    final = acc + 0.05 * lf - 0.02 * ld  # the early accuracy under-rates large blocks (mu = -0.05, rho = 0.02)
    grid = bq.fit_grid(0.01, 0.1)
    assert 0.0 in grid and len(grid) == 21
    free = bq.fit_mu_rho(acc, lf, ld, final, grid=grid)
    assert (free["mu"], free["rho"]) == (-0.05, 0.02) and free["spearman_fit"] == pytest.approx(1.0)
    paper = bq.fit_mu_rho(acc, lf, ld, final, grid=grid, nonnegative=True)
    assert paper["mu"] == 0.0 and paper["rho"] >= 0.0  # penalising FLOPs can only hurt here
    flops_only = bq.fit_mu_rho(acc, lf, ld, final, grid=grid, fix_rho=0.0)
    assert flops_only["rho"] == 0.0 and flops_only["mu"] < 0
    with pytest.raises(NwotError, match="grid step"):
        bq.fit_grid(0.0)


def test_iteration_means_and_options():
    m = bq.iteration_means([1, 3, float("-inf"), 5, 7, 9, 2], batch=3)  # the trailing partial iteration is dropped
    assert m.tolist() == [2.0, 7.0]
    opts = bq.qnn_options("cpu")
    assert sum(n for _, n in opts["schedule"]) == 20 and opts["schedule"][0] == [1.0, 11]
    with pytest.raises(NwotError, match="scaled:<iterations>"):
        bq.qnn_options("cpu", {"schedule": "fast"})
