"""BlockQNN: NSC codec and decision process, the block network, Q-learning on a toy MDP, reward, a tiny run
with real training on CIFAR-10, and the NB201 edge-decision version on the NB201 table."""
from __future__ import annotations

import math
import random

import pytest
import torch

from nwot.errors import NwotError, OutOfSpaceError
from nwot.evaluators.base import Evaluation
from nwot.evaluators.train import TrainConfig, TrainEvaluator
from nwot.search import Budget, get_strategy, run_search
from nwot.search.blockqnn import (
    PAPER_SCHEDULE,
    BlockQNN,
    QLearner,
    QLearningConfig,
    epsilon_at,
    scaled_schedule,
    shaped_rewards,
)
from nwot.spaces import get_space
from nwot.spaces.blockqnn.codec import density, layer_choices, output_layers
from nwot.spaces.complexity import count_params

# conv 3x3 on the input, max pool 3x3 on the input, concat of both, terminal
BLOCK = "1,1,3,0,0;2,2,3,0,0;3,6,0,1,2;4,7,0,0,0"


@pytest.fixture(scope="module")
def cifar(cifar10_sample):
    """Real CIFAR-10 training images: the 1,280 embedded in nwot (conftest)."""
    return cifar10_sample


def test_codec_and_validity():
    space = get_space("blockqnn")
    arch = space.decode(BLOCK)
    assert arch == ((1, 1, 3, 0, 0), (2, 2, 3, 0, 0), (3, 6, 0, 1, 2), (4, 7, 0, 0, 0)) and space.encode(arch) == BLOCK
    bad = {
        "1,1,3,0,0": "terminal",  # no terminal
        "1,1,4,0,0;2,7,0,0,0": "kernel 4",  # conv kernels are 1, 3, 5
        "1,2,5,0,0;2,7,0,0,0": "kernel 5",  # pooling kernels are 1, 3
        "1,1,3,1,0;2,7,0,0,0": "pred1 must be in 0..0",  # a layer cannot read itself
        "1,1,3,0,0;2,5,0,1,1;3,7,0,0,0": "distinct",  # add needs two different predecessors
        "1,1,3,0,0;2,5,0,1,0;3,7,0,0,0": "distinct",  # ... stored pred1 < pred2
        "1,7,0,0,0": "needs >= 1 layer",
        "1,1,3,0,0;3,7,0,0,0": "index 3",
        "1,8,0,0,0;2,7,0,0,0": "unknown type 8",
    }
    for code, msg in bad.items():
        with pytest.raises(OutOfSpaceError, match=msg):
            space.decode(code)
    with pytest.raises(OutOfSpaceError, match="at most 2"):
        get_space("blockqnn", max_layers=2).decode(BLOCK)


def test_action_counts_hand_formula():
    space = get_space("blockqnn", max_layers=10)
    for j in range(1, 11):
        # conv 3 kernels + 2 pools x 2 kernels + identity, each on j predecessors; add and concat on C(j, 2) pairs
        assert len(layer_choices(j)) == 3 * j + 4 * j + j + 2 * math.comb(j, 2)
    assert len(space.actions((0, 0, 0, 0, 0))) == 8  # layer 1: no terminal yet
    assert len(space.actions((5, 1, 3, 0, 0))) == 8 * 6 + 2 * 15 + 1  # layer 6 or terminal
    assert space.actions((10, 4, 0, 3, 0)) == [(11, 7, 0, 0, 0)]  # max_layers reached: terminal only
    assert space.actions((4, 7, 0, 0, 0)) == []


def test_sample_mutate_and_density():
    space = get_space("blockqnn", max_layers=6)
    rng = random.Random(0)
    for _ in range(100):
        a = space.sample(rng)
        assert space.decode(space.encode(a)) == a
        b = space.mutate(a, rng)
        assert b != a and space.is_valid(b) and len(b) == len(a)
    arch = space.decode(BLOCK)
    assert output_layers(arch) == [3]
    assert density(arch) == pytest.approx(4 / 4)  # edges 1 + 1 + 2, nodes input + 3 layers


def test_block_network_params_hand_counted():
    net = get_space("blockqnn").build(get_space("blockqnn").decode(BLOCK), C=4, N=1)
    # a C-wide block (C_in = C): conv 3x3 9C^2 + 2C, concat 2C wide -> output ReLUConvBN 1x1 2C*C + 2C
    block = lambda C: 9 * C * C + 2 * C + 2 * C * C + 2 * C  # noqa: E731
    proj = lambda c_in, c: c_in * c + 2 * c  # noqa: E731  (input projection when the width doubles)
    stem = 3 * 4 * 9 + 2 * 4
    head = 16 * 10 + 10
    total = stem + block(4) + proj(4, 8) + block(8) + proj(8, 16) + block(16) + head
    assert count_params(net) == total == 4302
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)


class TwoStateMDP:
    """s0 --a|b--> s1 --c|d--> end, final reward R(first, second)."""

    R = {("a", "c"): 1.0, ("a", "d"): 0.2, ("b", "c"): 0.6, ("b", "d"): 0.0}

    def start_state(self):
        return "s0"

    def actions(self, s):
        return {"s0": ["a", "b"], "s1": ["c", "d"]}.get(s, [])

    def step(self, s, a):
        return "s1" if s == "s0" else "end"

    def is_terminal(self, s):
        return s == "end"

    def arch_of(self, actions):
        return tuple(actions)

    def actions_of(self, arch):
        return list(arch)


@pytest.mark.parametrize("shaping,expected", [
    # spread, r_t = R/2, uniform behaviour: Q(s1,c) = E[R(.,c)]/2 = (1+0.6)/4; Q(s0,a) = E[R(a,.)]/2 + max Q(s1,.)
    ("spread", {("s1", "c"): 0.4, ("s1", "d"): 0.05, ("s0", "a"): 0.3 + 0.4, ("s0", "b"): 0.15 + 0.4}),
    # terminal reward only: Q(s1,c) = E[R(.,c)] = 0.8, Q(s1,d) = 0.1, Q(s0,.) = 0 + max Q(s1,.) = 0.8
    ("terminal", {("s1", "c"): 0.8, ("s1", "d"): 0.1, ("s0", "a"): 0.8, ("s0", "b"): 0.8}),
])
def test_q_values_converge_on_a_two_state_mdp(shaping, expected):
    mdp = TwoStateMDP()
    learner = QLearner(mdp, QLearningConfig(learning_rate=0.01, discount=1.0, q_init=0.0, shaping=shaping))
    rng = random.Random(0)
    for _ in range(20_000):
        actions = learner.episode(1.0, rng)  # epsilon = 1: uniform behaviour policy
        learner.update(actions, mdp.R[tuple(actions)])
    for key, value in expected.items():
        assert learner.q[key] == pytest.approx(value, abs=0.03)
    if shaping == "spread":
        assert learner.greedy("s0", rng) == "a"


def test_schedule_shaping_and_reward():
    assert sum(n for _, n in PAPER_SCHEDULE) * 64 == 11_392
    assert epsilon_at(PAPER_SCHEDULE, 0) == 1.0 and epsilon_at(PAPER_SCHEDULE, 94) == 1.0
    assert epsilon_at(PAPER_SCHEDULE, 95) == 0.9 and epsilon_at(PAPER_SCHEDULE, 10_000) == 0.1
    small = scaled_schedule(20)
    assert [e for e, _ in small] == [e for e, _ in PAPER_SCHEDULE] and all(n >= 1 for _, n in small)
    assert shaped_rewards(0.9, 3, "spread") == pytest.approx([0.3, 0.3, 0.3])
    assert shaped_rewards(0.9, 3, "terminal") == [0.0, 0.0, 0.9]
    space = get_space("blockqnn")
    agent = BlockQNN(space, random.Random(0), mu=0.01, rho=0.1)
    arch = space.decode(BLOCK)
    R = agent.reward(arch, Evaluation(62.5, 1.0, {"flops": 1_000_000}))
    assert R == pytest.approx(0.625 - 0.01 * math.log(1e6) - 0.1 * math.log(1.0))
    with pytest.raises(NwotError, match="flops"):
        agent.reward(arch, Evaluation(62.5, 1.0, {}))
    with pytest.raises(NwotError, match="unknown BlockQNN option"):
        BlockQNN(space, random.Random(0), epsilon=0.3)


def test_tiny_blockqnn_run_with_real_training(cifar, tmp_path):
    space = get_space("blockqnn", max_layers=3)
    cfg = TrainConfig(epochs=1, batch_size=32, lr=0.05, train_size=192, val_size=96)
    evaluate = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path)
    st = get_strategy("blockqnn", space, random.Random(0), batch_size=2, replay_size=8, mu=0.01, rho=0.01,
                      schedule=((1.0, 1), (0.5, 1), (0.1, 1)))
    res = run_search(st, evaluate, Budget(evaluations=6))
    assert res.n_evals == 6 and st.iteration == 3 and st.epsilon == 0.1
    assert len(st.memory) >= 6 and len(st.learner.q) > 0
    for row in res.trace:  # the stored reward is the corrected early-stop accuracy of the trained block
        arch = space.decode(row.arch)
        info = TrainEvaluator(space, cfg, cifar, build_kwargs=dict(C=4, N=1), checkpoint_dir=tmp_path)(arch).info
        assert info["cached"]
        expected = row.signal / 100 - 0.01 * math.log(info["flops"]) - 0.01 * math.log(density(arch))
        assert st.rewards[row.arch] == pytest.approx(expected)


def test_blockqnn_on_nb201_table():
    from nwot.adapters.embedded import load_nb201_table
    from nwot.search.run import run_strategy

    (res,) = run_strategy("blockqnn", space="nb201", budget_seconds=12_000, runs=1, seed=0, batch_size=8,
                          schedule=scaled_schedule(14))
    table = load_nb201_table().set_index("arch")
    assert res.n_evals > 50 and res.used_time <= 12_000
    for row in res.trace[:20]:  # signal = the 12-epoch cifar10-valid x-valid accuracy, cost = its simulated time
        assert row.signal == pytest.approx(table.loc[row.arch, "cifar10-valid/x-valid@12"])
        assert row.cost == pytest.approx(table.loc[row.arch, "cifar10-valid/cost@12"])
    assert res.final["test_accuracy"] == pytest.approx(table.loc[res.best_arch, "cifar10/ori-test@200"])
    assert res.config["iterations"] >= 7
