"""PNAS: cell codec and symmetry count, the CIFAR network, surrogates, the SMBO strategy (synthetic, NB201
table and real training on CIFAR-10), REA on the PNAS space and NASWOT pre-screening."""
from __future__ import annotations

import itertools
import math
import random
from collections import Counter

import numpy as np
import pytest
import torch

from nwot.errors import NwotError, OutOfSpaceError
from nwot.evaluators.base import Evaluation
from nwot.evaluators.proxy import ProxyEvaluator
from nwot.evaluators.train import TrainConfig, TrainEvaluator
from nwot.scores.scorer import ScoreConfig
from nwot.search import Budget, get_strategy, run_search
from nwot.search.pnas import PNAS
from nwot.search.prescreen import NaswotScreen, Prescreened
from nwot.search.progressive import NB201EdgeProgression
from nwot.search.surrogates import EnsembleSurrogate, SurrogateConfig
from nwot.spaces import get_space
from nwot.spaces.complexity import count_params
from nwot.spaces.pnas.codec import OPS, canonical_block, count_cells
from nwot.spaces.pnas.model import Conv1x7then7x1, SepConv, concat_blocks, make_op

SMALL_SURROGATE = dict(embed=16, hidden=32, epochs=20)


@pytest.fixture(scope="module")
def cifar(cifar10_sample):
    """Real CIFAR-10 training images: the 1,280 embedded in nwot (conftest)."""
    return cifar10_sample


# -- space ---------------------------------------------------------------------------------------


def test_136_distinct_one_block_cells():
    # PNAS §3.1: 2 inputs x 8 ops per half -> (2*8)^2 = 256 ordered blocks, 136 once (x, y) ~ (y, x)
    ordered = list(itertools.product(range(2), OPS, range(2), OPS))
    assert len(ordered) == 256
    assert len({canonical_block(*b) for b in ordered}) == 136 == 16 * 17 // 2
    space = get_space("pnas")
    roots = space.expand(())
    assert len(roots) == len(set(roots)) == 136 == space.count(1)
    # the second block chooses from 3 inputs: (3*8)(3*8+1)/2 = 300 blocks
    assert len(space.expand(roots[0])) == 300 and count_cells(2) == 136 * 300


def test_codec_roundtrip_and_errors():
    space = get_space("pnas")
    rng = random.Random(0)
    for _ in range(50):
        a = space.sample(rng)
        assert len(a) == 5 and space.decode(space.encode(a)) == a
    assert space.encode(((1, "identity", 0, "sep_conv_3x3"),)) == "|sep_conv_3x3~0|identity~1|"
    with pytest.raises(OutOfSpaceError, match="not in canonical form"):
        space.decode("|identity~1|sep_conv_3x3~0|")
    with pytest.raises(OutOfSpaceError, match="conv_9x9"):
        space.decode("|conv_9x9~0|identity~1|")
    with pytest.raises(OutOfSpaceError, match="input 2 out of range"):
        space.check(((2, "identity", 0, "identity"),))
    with pytest.raises(OutOfSpaceError, match="1..5 blocks"):
        space.check(())
    with pytest.raises(NwotError, match="ops must be"):
        get_space("pnas", ops=("sep_conv_3x3", "conv_9x9"))


def test_mutation_changes_exactly_one_op_or_input():
    space = get_space("pnas")
    rng = random.Random(1)
    a = space.sample(rng)
    kinds = set()
    for _ in range(300):
        b = space.mutate(a, rng)
        assert b != a and space.is_valid(b)
        diff = [k for k in range(5) if a[k] != b[k]]
        assert len(diff) == 1
        old, new = a[diff[0]], b[diff[0]]
        halves_old = Counter([(old[0], old[1]), (old[2], old[3])])
        halves_new = Counter([(new[0], new[1]), (new[2], new[3])])
        (gone,), (came,) = list((halves_old - halves_new).elements()), list((halves_new - halves_old).elements())
        assert (gone[0] == came[0]) != (gone[1] == came[1])  # the input or the op changed, not both
        kinds.add("op" if gone[0] == came[0] else "input")
        a = b
    assert kinds == {"op", "input"}


# -- network -------------------------------------------------------------------------------------


def test_op_params_hand_counted():
    C = 4
    assert count_params(SepConv(C, 3, 1)) == 2 * (C * 9 + C * C + 2 * C) == 120
    assert count_params(SepConv(C, 7, 2)) == 2 * (C * 49 + C * C + 2 * C) == 440
    assert count_params(Conv1x7then7x1(C, 1)) == 14 * C * C + 2 * C == 232
    assert count_params(make_op("dil_conv_3x3", C, 1)) == 9 * C * C + 2 * C == 152
    assert count_params(make_op("identity", C, 2)) == C * 2 + C * 2 + 2 * C == 24  # factorized reduce
    for name in ("identity", "avg_pool_3x3", "max_pool_3x3"):
        assert count_params(make_op(name, C, 1)) == 0
    x = torch.randn(2, C, 8, 8)
    for name in OPS:
        assert make_op(name, C, 1)(x).shape == (2, C, 8, 8)
        assert make_op(name, C, 2)(x).shape == (2, C, 4, 4)


def test_network_params_hand_counted_cell():
    # one block: identity(H^{c-2}) + max_pool(H^{c-1}); F = C = 4, N = 1, stem 3F = 12 channels
    cell = ((0, "identity", 1, "max_pool_3x3"),)
    net = get_space("pnas").build(cell, C=4, N=1)
    stem = 3 * 12 * 9 + 2 * 12  # conv 3x3 3->12, BN
    normal1 = (12 * 4 + 8) + (12 * 4 + 8)  # ReLUConvBN 1x1 12->4 on both inputs
    # preprocess 12->8, 4->8; identity s2 = factorized reduce 8->8
    reduce1 = (12 * 8 + 16) + (4 * 8 + 16) + (8 * 4 * 2 + 16)
    normal2 = (4 * 4 * 2 + 16) + (8 * 8 + 16)  # factorized reduce 4->8 (after a reduction), ReLUConvBN 8->8
    reduce2 = (8 * 16 + 32) + (8 * 16 + 32) + (16 * 8 * 2 + 32)
    normal3 = (8 * 8 * 2 + 32) + (16 * 16 + 32)
    head = 16 * 10 + 10
    assert count_params(net) == stem + normal1 + reduce1 + normal2 + reduce2 + normal3 + head == 2054
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_concat_modes_and_random_cells_build():
    cell = ((1, "sep_conv_3x3", 1, "max_pool_3x3"), (0, "identity", 2, "sep_conv_3x3"),
            (1, "identity", 3, "avg_pool_3x3"))
    assert concat_blocks(cell, "all") == [0, 1, 2]
    assert concat_blocks(cell, "unused") == [2]  # block 1 reads block 0 (input 2), block 2 reads block 1 (input 3)
    space = get_space("pnas")
    rng = random.Random(3)
    for _ in range(3):
        net = space.build(space.sample(rng), num_classes=7, C=4, N=1)
        assert net(torch.randn(2, 3, 32, 32)).shape == (2, 7)


# -- surrogate -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_surrogate_learns_a_function_of_the_tokens(kind):
    space = get_space("pnas", num_blocks=3)
    rng = random.Random(0)
    w = [0.9, 0.7, 0.5, 0.6, 0.1, 0.2, 0.3, 0.4]

    def target(cell):  # mean over blocks of op weights + a bonus for reading H^{c-1}
        return sum(w[o1] + w[o2] + 0.3 * (i1 == 1) for i1, o1, i2, o2 in space.tokens(cell)) / len(cell)

    cells = [space.sample(rng, num_blocks=rng.randint(1, 3)) for _ in range(300)]
    y = np.array([target(c) for c in cells])
    sur = EnsembleSurrogate(space.token_kinds, space.token_vocab(),
                            SurrogateConfig(kind=kind, embed=16, hidden=32, epochs=60, ensemble=5))
    sur.fit([space.tokens(c) for c in cells[:200]], y[:200], seed=0)
    assert len(sur.models) == 5
    l1 = np.abs(sur.predict([space.tokens(c) for c in cells[200:]]) - y[200:]).mean()
    baseline = np.abs(y[200:] - y[:200].mean()).mean()
    assert l1 < 0.3 * baseline


# -- strategy ------------------------------------------------------------------------------------


def _synthetic(space):
    def evaluate(cell):
        return Evaluation(sum((o1 == 0) + (o2 == 0) + (i1 == 1) for i1, o1, i2, o2 in space.tokens(cell)), 1.0)
    return evaluate


def test_pnas_levels_beam_and_ranking():
    space = get_space("pnas", num_blocks=3, ops=("sep_conv_3x3", "identity", "max_pool_3x3"))
    st = PNAS(space, random.Random(0), beam=4, surrogate="mlp", surrogate_kwargs=SMALL_SURROGATE, continue_search=False)
    evaluate = _synthetic(space)
    first = st.ask()
    assert sorted(first) == sorted(space.expand(())) and len(first) == 21  # (2*3)(2*3+1)/2
    st.tell(first, [evaluate(a) for a in first])
    beam = st.ask()
    assert len(beam) == 4 and all(len(a) == 2 and (a[:1] in first) for a in beam)
    # the beam is the surrogate's top 4 of all children of the trained 1-block cells
    children = list(dict.fromkeys(c for p in first for c in space.expand(p)))  # PNAS's order: parents as told
    pred = st.surrogate.predict([space.tokens(c) for c in children])
    top = {children[i] for i in np.argsort(-pred, kind="stable")[:4]}
    assert set(beam) == top
    st.tell(beam, [evaluate(a) for a in beam])
    beam3 = st.ask()
    assert len(beam3) == 4 and all(len(a) == 3 and a[:2] in beam for a in beam3)
    st.tell(beam3, [evaluate(a) for a in beam3])
    assert st.ask() == []  # B = 3 reached, no continuation
    res_levels = [lv["level"] for lv in st.config()["levels"]]
    assert res_levels == [2, 3]


def test_pnas_on_nb201_edge_progression():
    space = get_space("nb201")
    prog = NB201EdgeProgression(space)
    sizes, level = [], prog.roots()
    while level:
        sizes.append(len(level))
        level = sorted({c for a in level for c in prog.children(a)})
    assert sizes == [math.comb(6, b) * 4 ** b for b in range(1, 7)] and sum(sizes) == 15_624
    st = get_strategy("pnas", space, random.Random(0), beam=3, surrogate="mlp", surrogate_kwargs=SMALL_SURROGATE)
    res = run_search(st, lambda a: Evaluation(float(sum(op == "nor_conv_3x3" for op in a)), 1.0),
                     Budget(evaluations=42))
    levels = [prog.level(space.decode(r.arch)) for r in res.trace]
    assert levels == [1] * 24 + [2] * 3 + [3] * 3 + [4] * 3 + [5] * 3 + [6] * 6  # then K more level-6 cells
    assert res.best_signal == max(r.signal for r in res.trace)


def test_tiny_pnas_run_with_real_training(cifar, tmp_path):
    space = get_space("pnas", num_blocks=2, ops=("sep_conv_3x3", "max_pool_3x3"))
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.05, train_size=128, val_size=96)
    evaluate = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path)
    st = get_strategy("pnas", space, random.Random(0), beam=2, surrogate="lstm", surrogate_kwargs=SMALL_SURROGATE,
                      continue_search=False)
    res = run_search(st, evaluate, Budget(evaluations=100))
    blocks = [len(space.decode(r.arch)) for r in res.trace]
    assert blocks == [1] * 10 + [2] * 2  # (2*2)(2*2+1)/2 = 10 one-block cells, then the beam of K = 2
    assert res.n_evals == 12 and res.best_signal == max(r.signal for r in res.trace)
    for r in res.trace:  # every signal is a real validation accuracy: a multiple of 100/96
        k = r.signal * 96 / 100
        assert abs(k - round(k)) < 1e-9 and r.cost > 0
    assert len(list(tmp_path.glob("pnas-*/result.json"))) == 12


def test_rea_runs_on_the_pnas_space():
    space = get_space("pnas", num_blocks=2)
    st = get_strategy("rea", space, random.Random(0), population_size=4, sample_size=2)
    res = run_search(st, _synthetic(space), Budget(evaluations=12))
    archs = [space.decode(r.arch) for r in res.trace]
    for k in range(4, 12):  # each child is one mutation away from an earlier arch
        diffs = [sum(x != y for x, y in zip(archs[k], p)) for p in archs[:k]]
        assert min(diffs) == 1


# -- NASWOT pre-screening --------------------------------------------------------------------------


def test_prescreen_trains_the_best_scored_of_the_pool(cifar):
    from nwot.proxies.naswot import naswot_score
    from nwot.seeding import torch_seed

    space = get_space("pnas", num_blocks=2)
    images = ((cifar.images[:16].float() / 255 - torch.tensor(cifar.mean).view(1, 3, 1, 1))
              / torch.tensor(cifar.std).view(1, 3, 1, 1))
    screen = NaswotScreen(ProxyEvaluator(space, ScoreConfig(batch_size=16, device="cpu"), images=images,
                                         build_kwargs=dict(C=4, N=1)), space)
    st = Prescreened(space, random.Random(0), inner="random", factor=3, screen=screen)
    assert st.name == "random+naswot"
    (chosen,) = st.ask()
    # the wrapper drew 3 random cells (same rng stream) and kept the one with the best NASWOT score
    rng = random.Random(0)
    pool = [space.sample(rng) for _ in range(3)]

    def score(a):
        with torch_seed(0):
            return naswot_score(space.build(a, num_classes=10, C=4, N=1), images, device="cpu")

    assert chosen == max(pool, key=score) and len(screen.scores) == 3 and screen.pending_seconds > 0
    charged = screen.charge(lambda a: Evaluation(50.0, 1.0))(chosen)
    assert charged.cost > 1.0 and screen.pending_seconds == 0.0


def test_prescreen_selects_pnas_beam_by_naswot(cifar):
    space = get_space("pnas", num_blocks=2, ops=("sep_conv_3x3", "identity"))
    images = ((cifar.images[:16].float() / 255 - torch.tensor(cifar.mean).view(1, 3, 1, 1))
              / torch.tensor(cifar.std).view(1, 3, 1, 1))
    screen = NaswotScreen(ProxyEvaluator(space, ScoreConfig(batch_size=16, device="cpu"), images=images,
                                         build_kwargs=dict(C=4, N=1)), space)
    st = Prescreened(space, random.Random(0), inner="pnas", factor=2, screen=screen,
                     inner_kwargs=dict(beam=2, surrogate="mlp", surrogate_kwargs=SMALL_SURROGATE))
    first = st.ask()
    st.tell(first, [_synthetic(space)(a) for a in first])
    beam = st.ask()
    # the pool is the predictor's top factor * K = 4 children; the beam is their 2 best NASWOT scores
    children = list(dict.fromkeys(c for p in first for c in space.expand(p)))  # PNAS's order: parents as told
    pred = st.inner.surrogate.predict([space.tokens(c) for c in children])
    pool = [children[i] for i in np.argsort(-pred, kind="stable")[:4]]
    assert len(beam) == 2 and set(beam) <= set(pool)
    assert sorted(screen.score(a) for a in beam) == sorted(screen.score(a) for a in pool)[-2:]
