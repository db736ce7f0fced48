"""nwot.study: correlation, top-k, search-replay maths on hand-made inputs; NASLib tuple -> NB201 index."""
import csv
import lzma
import math
import random

import numpy as np
import pandas as pd
import pytest

import nwot.study.cells as cells
import nwot.study.correlation as corr
import nwot.study.correlation_study as correlation_study
import nwot.study.naslib as naslib
import nwot.study.replay as replay
import nwot.study.scores as scores
from nwot.adapters.embedded import nb201_index_of
from nwot.errors import BenchmarkFileError, NwotError
from nwot.spaces.nb201.codec import has_path, parse_arch, unique_str


def test_rank_correlation_hand_computed():
    # pairs of [1,2,3,4] vs [1,3,2,4]: 5 concordant, 1 discordant -> tau = 4/6; sum d^2 = 2 -> rho = 1 - 12/60
    c = corr.rank_correlation([1, 2, 3, 4], [1, 3, 2, 4])
    assert c.n == 4
    assert c.kendall_tau == pytest.approx(2 / 3)
    assert c.spearman_rho == pytest.approx(0.8)
    # -inf (singular kernel) ranks lowest, like any smallest value
    c2 = corr.rank_correlation([-math.inf, 2, 3, 4], [1, 3, 2, 4])
    assert (c2.kendall_tau, c2.spearman_rho) == pytest.approx((2 / 3, 0.8))
    # tau-b with one tie in x: 5 concordant, 0 discordant, n0 = 6, n1 = 1 -> 5 / sqrt(5 * 6)
    assert corr.rank_correlation([1, 1, 2, 3], [1, 2, 3, 4]).kendall_tau == pytest.approx(5 / math.sqrt(30))


def test_rank_correlation_rejects_bad_input():
    with pytest.raises(NwotError, match="NaN"):
        corr.rank_correlation([1, float("nan")], [1, 2])
    with pytest.raises(NwotError, match="equal length"):
        corr.rank_correlation([1, 2, 3], [1, 2])


def test_topk_overlap_hand_computed():
    score = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    acc = [1, 9, 8, 0, 0, 0, 0, 0, 0, 0]
    # k = 2: top score positions {0, 1}, top accuracy positions {1, 2} -> 1 shared of 2
    assert corr.topk_overlap(score, acc, 0.2) == 0.5
    # k = max(1, round(0.05 * 10)) = 1: {0} vs {1}
    assert corr.topk_overlap(score, acc, 0.05) == 0.0
    # k = 3: {0, 1, 2} vs {1, 2, 0}: acc ties among the zeros do not matter
    assert corr.topk_overlap(score, acc, 0.3) == 1.0
    # ties are broken by position: top-2 of [1, 1, 1] is positions 0, 1
    assert list(corr.top_k([1, 1, 1], 2)) == [0, 1]
    with pytest.raises(NwotError, match="fraction"):
        corr.topk_overlap(score, acc, 0.0)


def test_mean_pairwise_tau_hand_computed():
    a, b, c = [1, 2, 3, 4], [1, 3, 2, 4], [4, 3, 2, 1]
    # tau(a, b) = 2/3, tau(a, c) = -1, tau(b, c) = -2/3
    mean, lo, hi = corr.mean_pairwise_tau([a, b, c])
    assert mean == pytest.approx((2 / 3 - 1 - 2 / 3) / 3)
    assert (lo, hi) == pytest.approx((-1.0, 2 / 3))


class ScriptedRandom(random.Random):
    """random.Random whose randrange returns a fixed script (to hand-compute a search)."""

    def __init__(self, script):
        super().__init__(0)
        self.script = list(script)

    def randrange(self, *args):
        return self.script.pop(0)


def test_simulate_search_hand_computed():
    score, acc = [1.0, 5.0, 3.0], [90.0, 80.0, 95.0]
    # run 1 draws cells [0, 2] (NASWOT keeps 2: 95; oracle 95), random pick cell 1 (80)
    # run 2 draws cells [1, 1] (NASWOT keeps 1: 80; oracle 80), random pick cell 0 (90)
    row = replay.simulate_search(score, acc, n=2, runs=2, rng=ScriptedRandom([0, 2, 1, 1, 1, 0]))
    assert (row.n, row.runs) == (2, 2)
    assert (row.naswot_mean, row.naswot_std) == pytest.approx((87.5, 7.5))
    assert (row.oracle_mean, row.oracle_std) == pytest.approx((87.5, 7.5))
    assert (row.random_mean, row.random_std) == pytest.approx((85.0, 5.0))
    # equal scores: the first drawn cell wins
    tie = replay.simulate_search([2.0, 2.0], [10.0, 20.0], n=2, runs=1, rng=ScriptedRandom([1, 0, 0]))
    assert tie.naswot_mean == 20.0


def test_simulate_search_large_n_finds_the_top_score():
    # with N = 1000 draws from 3 cells every run contains the top-score cell (miss prob (2/3)^1000)
    row = replay.simulate_search([1.0, 5.0, 3.0], [90.0, 80.0, 95.0], n=1000, runs=20, rng=random.Random(0))
    assert (row.naswot_mean, row.naswot_std) == (80.0, 0.0)
    assert (row.oracle_mean, row.oracle_std) == (95.0, 0.0)


# Hand-made cells: X and Y are isomorphic (Y's extra skip edge feeds a node that reaches the output only
# through `none`), Z has no input->output path, W is all 3x3 convolutions.
X = "|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
Y = "|none~0|+|skip_connect~0|none~1|+|nor_conv_3x3~0|none~1|none~2|"
Z = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
W = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_hand_made_cells_are_what_the_study_assumes():
    assert unique_str(X) == unique_str(Y) == "#+#+(0)@nor_conv_3x3"
    assert unique_str(Z) == "#+#+#" and unique_str(W) != unique_str(X)
    assert [has_path(a) for a in (X, Y, Z, W)] == [True, True, False, True]
    assert list(cells.unique_mask([X, Y, Z, W])) == [True, False, True, True]
    assert list(cells.path_mask([X, Y, Z, W])) == [True, True, False, True]


def test_nb201_correlation_rows_hand_computed():
    table = pd.DataFrame({"arch": [X, Y, Z, W], "acc": [80.0, 85.0, 10.0, 90.0]}, index=[10, 11, 12, 13])
    score = pd.Series([4.0, -math.inf, 1.0, 3.0], index=[13, 12, 11, 10])  # any order: aligned by index
    rows = {r["subset"]: r for r in correlation_study.nb201_correlation_rows(score, table, ["acc"], fractions=(0.5,))}
    # all: scores [3, 1, -inf, 4] vs [80, 85, 10, 90] -> one discordant pair of 6, sum d^2 = 2
    assert rows["all"]["n"] == 4 and rows["all"]["singular"] == 1
    assert (rows["all"]["kendall_tau"], rows["all"]["spearman_rho"]) == pytest.approx((2 / 3, 0.8))
    assert rows["all"]["top50%"] == 0.5  # top-2 by score {W, X}, by accuracy {W, Y}
    # path (drops Z): [3, 1, 4] vs [80, 85, 90] -> tau 1/3, rho 1 - 6*2/(3*8) = 0.5
    assert rows["path"]["n"] == 3 and rows["path"]["singular"] == 0
    assert (rows["path"]["kendall_tau"], rows["path"]["spearman_rho"]) == pytest.approx((1 / 3, 0.5))
    # unique (drops Y, the second of its class): [3, -inf, 4] vs [80, 10, 90] -> perfect agreement
    assert rows["unique"]["n"] == 3
    assert (rows["unique"]["kendall_tau"], rows["unique"]["spearman_rho"]) == pytest.approx((1.0, 1.0))


ENCODINGS_CSV = "nb201/derived/nb201_index_encodings.csv.xz"
NASLIB_ZC = "nb201/naslib/zc_nasbench201_subset725.json.xz"


def test_naslib_tuple_to_index_known_pairs(data_root):
    # the committed cut: its rows of the encodings CSV (4811, 0 and every cell of its NASLib slice among them)
    imap = naslib.load_naslib_index_map(data_root / ENCODINGS_CSV)
    assert len(imap) == (15_625 if data_root.full else len(data_root.nb201_rows(ENCODINGS_CSV)))
    assert imap["(0, 2, 3, 2, 3, 1)"] == 4811  # MANIFEST §1.8
    assert imap["(4, 3, 3, 0, 0, 0)"] == 0  # MANIFEST §0: index 0
    # NASLib's rule, implemented independently of the CSV, agrees with it on known pairs and everywhere
    assert nb201_index_of("|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(
        *naslib.naslib_tuple_to_arch("(0, 2, 3, 2, 3, 1)"))) == 4811
    assert naslib.naslib_tuple_to_arch("(4, 3, 3, 0, 0, 0)") == parse_arch(
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")
    with lzma.open(data_root / ENCODINGS_CSV, "rt") as f:
        for r in csv.DictReader(f):
            assert naslib.naslib_tuple_to_arch(r["naslib_op_indices"]) == parse_arch(r["arch_str"])
    with pytest.raises(NwotError, match="6 op ids"):
        naslib.naslib_tuple_to_arch("(0, 2, 3, 2, 3, 5)")


def test_load_naslib_zc(data_root):
    imap = naslib.load_naslib_index_map(data_root / ENCODINGS_CSV)
    zc = naslib.load_naslib_zc(data_root / NASLIB_ZC, imap)
    # cifar10 has 724 of the 725 cells (MANIFEST §1.8); the cut, 43 of its 44 (the -inf cell included)
    assert len(zc) == (724 if data_root.full else 43)
    row = zc.loc[4811]
    assert row["naslib_tuple"] == "(0, 2, 3, 2, 3, 1)"
    assert row["naslib_score"] == 406.5381264995463 and row["val_accuracy"] == 86.06
    assert int(np.isneginf(zc["naslib_score"]).sum()) == 1
    with pytest.raises(NwotError, match="unknown dataset"):
        naslib.load_naslib_zc(data_root / NASLIB_ZC, imap, dataset="cifar-10")


def test_load_scores_round_trip_and_errors(tmp_path):
    p = tmp_path / "s.csv.xz"
    pd.DataFrame({"index": [5, 2], "arch": [W, X], "score": [1.5, -math.inf], "seconds": [0.1, 0.2]}).to_csv(
        p, index=False)
    df = scores.load_scores(p)
    assert list(df.index) == [2, 5] and df.loc[2, "score"] == -math.inf and df.loc[5, "arch"] == W
    pd.DataFrame({"index": [1, 1], "arch": [W, X], "score": [1, 2], "seconds": [0, 0]}).to_csv(p, index=False)
    with pytest.raises(BenchmarkFileError, match="duplicated"):
        scores.load_scores(p)
    with pytest.raises(BenchmarkFileError, match="not found"):
        scores.load_scores(tmp_path / "nope.csv")


def test_random_cells_distinct_and_seeded():
    a = cells.random_cells(500, seed=0)
    assert len(set(a)) == 500 and all(0 <= i < 15_625 for i in a)
    assert a == cells.random_cells(500, seed=0) and a != cells.random_cells(500, seed=1)
    with pytest.raises(NwotError):
        cells.random_cells(0)


def test_singular_treatments_by_hand():
    from nwot.study.correlation import singular_treatments

    score = [3.0, 1.0, 2.0, float("-inf")]
    acc = [90.0, 70.0, 80.0, 10.0]
    t = singular_treatments(score, acc, draws=50, seed=1)
    assert t["last"]["singular"] == 1 and t["last"]["kendall_tau"] == pytest.approx(1.0)  # -inf last: concordant
    assert t["excluded"]["n"] == 3 and t["excluded"]["kendall_tau"] == pytest.approx(1.0)
    # random: the singular cell lands between 1 and 3 -> it is discordant with 1 or 2 of the 3 others
    assert t["random"]["draws"] == 50 and 0.0 < t["random"]["kendall_tau"] < 1.0
    again = singular_treatments(score, acc, draws=50, seed=1)
    assert t["random"]["kendall_tau"] == pytest.approx(again["random"]["kendall_tau"])
    none = singular_treatments([1.0, 2.0], [1.0, 2.0])
    assert none["last"]["singular"] == 0 and none["random"]["kendall_tau"] == pytest.approx(1.0)
