"""BlockQNN: tabular Q-learning of block structures with epsilon-greedy exploration and replay.

Zhong et al., "Practical Block-wise Neural Network Architecture Generation", CVPR 2018
(arXiv:1708.05552), §3.2-3.4. The agent builds a block layer by layer: the state is the current layer's
code, an action the next layer's code (:mod:`nwot.spaces.blockqnn.codec`), a terminal layer ends the episode.
On NAS-Bench-201 the episode is the 6 edge decisions (:class:`~nwot.search.progressive.NB201EdgeDecisions`).

* **Q update** (§3.2, Eq. 3), applied to an episode's transitions from last to first::

      Q(s_t, a_t) <- (1 - alpha) Q(s_t, a_t) + alpha [ r_t + gamma max_a' Q(s_{t+1}, a') ]

  with learning rate alpha = 0.01 and discount gamma = 1 (paper); ``max`` is 0 after the terminal.
* **Reward shaping** (§3.2): only the whole block gets a reward R, so the paper spreads it over the
  T steps of the episode, ``r_t = R / T`` for t = 1..T (``shaping="spread"``, default; with gamma = 1 the
  rewards of an episode still sum to R). ``shaping="terminal"`` gives ``r_T = R`` and 0 before.
* **Early-stop reward** (§3.4): the accuracy after a short training, corrected for the bias of early
  stopping against large, dense blocks::

      R = ACC_EarlyStop - mu log(FLOPs) - rho log(Density)

  ACC is the evaluation's signal times ``signal_scale`` (% -> fraction), FLOPs is the evaluator's
  ``info["flops"]`` (conv/linear MACs, :mod:`nwot.spaces.complexity`), Density = edges / nodes of
  the block DAG (``space.density``). ``mu = rho = 0`` disables the correction (needed on tables
  without FLOPs).
* **Epsilon-greedy** with epsilon annealed from 1.0 to 0.1 (§3.2, Table 2): :data:`PAPER_SCHEDULE`
  lists (epsilon, iterations) with 64 blocks per iteration (11,392 blocks in all). Greedy actions
  break ties uniformly at random.
* **Experience replay** (§3.2): every (episode, reward) is stored; after each iteration the agent
  draws ``replay_size`` (64) episodes uniformly (with replacement) from the memory and applies the Q
  update along each.

Ask/tell: :meth:`BlockQNN.ask` returns one iteration's ``batch_size`` blocks sampled with the current
epsilon; :meth:`BlockQNN.tell` stores their rewards and replays; the iteration count advances per
tell. A sampled block that was already evaluated is not proposed again: its stored reward goes to the
memory (as MetaQNN, Baker et al., ICLR 2017, §4, reuses trained models) and another block is sampled.
A failed block (``Evaluation.failure``: out of memory, diverged) gets no reward and no Q update, and is not
proposed again. Asynchronous use (``asynchrony = "batch"``): an iteration's blocks are trained
concurrently (BlockQNN's 32 GPUs did so) and told together once all are done.
"""
from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Hashable, List, Optional, Sequence, Tuple

from nwot.errors import NwotError, check_choice
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.search.progressive import DecisionProcess, decision_process_for
from nwot.spaces.base import Arch, SearchSpace

#: BlockQNN Table 2 (as we read it): epsilon and the number of iterations (64 blocks each) it is used for.
PAPER_SCHEDULE: Tuple[Tuple[float, int], ...] = (
    (1.0, 95), (0.9, 7), (0.8, 7), (0.7, 7), (0.6, 10), (0.5, 10), (0.4, 10), (0.3, 10), (0.2, 10), (0.1, 12))
SHAPINGS: Tuple[str, ...] = ("spread", "terminal")


def scaled_schedule(iterations: int,
                    schedule: Sequence[Tuple[float, int]] = PAPER_SCHEDULE) -> Tuple[Tuple[float, int], ...]:
    """``schedule`` shrunk to about ``iterations`` iterations, keeping each epsilon's share (at least 1 each)."""
    if iterations < len(schedule):
        raise NwotError(f"a schedule of {len(schedule)} epsilons needs >= {len(schedule)} iterations, got {iterations}")
    total = sum(n for _, n in schedule)
    out = [(eps, max(1, round(n * iterations / total))) for eps, n in schedule]
    return tuple(out)


@dataclass(frozen=True)
class QLearningConfig:
    """BlockQNN's agent (defaults = the paper's, except where marked ours)."""

    learning_rate: float = 0.01  # alpha of the Q update
    discount: float = 1.0  # gamma
    q_init: float = 0.5  # Q-value of unseen (state, action) pairs (ours, MetaQNN's 0.5)
    shaping: str = "spread"  # "spread": r_t = R / T on every step; "terminal": r_T = R only
    batch_size: int = 64  # blocks sampled per iteration (ask)
    replay_size: int = 64  # episodes replayed from memory after each iteration
    schedule: Tuple[Tuple[float, int], ...] = PAPER_SCHEDULE  # (epsilon, iterations); the last epsilon persists
    mu: float = 0.0  # weight of log(FLOPs) in the reward (0 = off)
    rho: float = 0.0  # weight of log(density) in the reward (0 = off)
    signal_scale: float = 0.01  # ACC = signal * signal_scale (the evaluators report accuracy in %)
    max_resamples: int = 1000  # tries to find a not-yet-evaluated block before proposing a repeat

    def __post_init__(self) -> None:
        check_choice("reward shaping", self.shaping, SHAPINGS)
        if not 0 < self.learning_rate <= 1 or not 0 <= self.discount <= 1:
            raise NwotError(f"need 0 < learning_rate <= 1 and 0 <= discount <= 1, "
                            f"got {self.learning_rate}, {self.discount}")
        for name in ("batch_size", "replay_size", "max_resamples"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "replay_size" else 1):
                raise NwotError(f"QLearningConfig.{name} must be a positive int, got {v!r}")
        if not self.schedule or any(not 0 <= e <= 1 or n < 1 for e, n in self.schedule):
            raise NwotError(f"schedule must be non-empty (epsilon in [0, 1], iterations >= 1) pairs, "
                            f"got {self.schedule!r}")
        if self.mu < 0 or self.rho < 0:
            raise NwotError(f"mu and rho must be >= 0, got {self.mu}, {self.rho}")


def epsilon_at(schedule: Sequence[Tuple[float, int]], iteration: int) -> float:
    """Epsilon of 0-based ``iteration`` under ``schedule``; past its end, the last epsilon."""
    for eps, n in schedule:
        if iteration < n:
            return eps
        iteration -= n
    return schedule[-1][0]


def shaped_rewards(R: float, T: int, shaping: str) -> List[float]:
    """Per-step rewards of a T-step episode with final reward R (see the module docstring)."""
    check_choice("reward shaping", shaping, SHAPINGS)
    return [R / T] * T if shaping == "spread" else [0.0] * (T - 1) + [R]


class QLearner:
    """Tabular Q-values over a :class:`~nwot.search.progressive.DecisionProcess`."""

    def __init__(self, mdp: DecisionProcess, cfg: QLearningConfig) -> None:
        self.mdp, self.cfg = mdp, cfg
        self.q: Dict[Tuple[Hashable, Hashable], float] = {}
        self._actions: Dict[Hashable, List[Hashable]] = {}

    def actions(self, state: Hashable) -> List[Hashable]:
        if state not in self._actions:
            self._actions[state] = list(self.mdp.actions(state))
        return self._actions[state]

    def value(self, state: Hashable, action: Hashable) -> float:
        return self.q.get((state, action), self.cfg.q_init)

    def best_value(self, state: Hashable) -> float:
        """``max_a Q(state, a)``; 0 for a terminal state."""
        if self.mdp.is_terminal(state):
            return 0.0
        return max(self.value(state, a) for a in self.actions(state))

    def greedy(self, state: Hashable, rng: random.Random) -> Hashable:
        acts = self.actions(state)
        vals = [self.value(state, a) for a in acts]
        top = max(vals)
        return rng.choice([a for a, v in zip(acts, vals) if v == top])

    def episode(self, epsilon: float, rng: random.Random) -> List[Hashable]:
        """Actions of one epsilon-greedy episode from the start state to a terminal state."""
        state, actions = self.mdp.start_state(), []
        while not self.mdp.is_terminal(state):
            acts = self.actions(state)
            if not acts:
                raise NwotError(f"state {state!r} is not terminal but has no actions")
            a = rng.choice(acts) if rng.random() < epsilon else self.greedy(state, rng)
            actions.append(a)
            state = self.mdp.step(state, a)
        return actions

    def update(self, actions: Sequence[Hashable], R: float) -> None:
        """Q updates along the episode, last transition first (Eq. 3 with shaped rewards)."""
        states = [self.mdp.start_state()]
        for a in actions:
            states.append(self.mdp.step(states[-1], a))
        rewards = shaped_rewards(R, len(actions), self.cfg.shaping)
        alpha, gamma = self.cfg.learning_rate, self.cfg.discount
        for t in reversed(range(len(actions))):
            s, a = states[t], actions[t]
            target = rewards[t] + gamma * self.best_value(states[t + 1])
            self.q[(s, a)] = (1 - alpha) * self.value(s, a) + alpha * target


@register_strategy("blockqnn")
class BlockQNN(Strategy):
    """BlockQNN's Q-learning agent as an ask/tell strategy (see the module docstring)."""

    name = "blockqnn"
    asynchrony = "batch"  # an iteration's blocks are told together: one replay and one epsilon step per tell

    def __init__(self, space: SearchSpace, rng: random.Random, *, config: Optional[QLearningConfig] = None,
                 mdp: Optional[DecisionProcess] = None, **overrides: Any) -> None:
        super().__init__(space, rng)
        cfg = config or QLearningConfig()
        if overrides:
            unknown = set(overrides) - set(asdict(cfg))
            if unknown:
                raise NwotError(f"unknown BlockQNN option(s) {sorted(unknown)}; allowed: {sorted(asdict(cfg))}")
            if "schedule" in overrides:
                overrides["schedule"] = tuple(tuple(x) for x in overrides["schedule"])
            cfg = replace(cfg, **overrides)
        self.cfg = cfg
        self.mdp = mdp if mdp is not None else decision_process_for(space)
        self.learner = QLearner(self.mdp, cfg)
        self.memory: List[Tuple[Tuple[Hashable, ...], float]] = []
        self.rewards: Dict[str, float] = {}  # encoded arch -> reward
        self.episodes: Dict[str, Tuple[Hashable, ...]] = {}  # proposed, not yet told
        self.failed: Dict[str, str] = {}  # encoded arch -> why its evaluation failed (no reward, not re-proposed)
        self.iteration = 0
        self.repeats = 0  # sampled blocks answered from `rewards` instead of being re-evaluated

    @property
    def epsilon(self) -> float:
        return epsilon_at(self.cfg.schedule, self.iteration)

    def reward(self, arch: Arch, ev: Evaluation) -> float:
        """``R = signal * signal_scale - mu log(FLOPs) - rho log(density)``."""
        R = float(ev.signal) * self.cfg.signal_scale
        if self.cfg.mu:
            flops = ev.info.get("flops")
            if flops is None or not flops > 0:
                raise NwotError(f"reward with mu={self.cfg.mu} needs the evaluator's info['flops'] > 0, got {flops!r} "
                                f"(use the training evaluator, or mu=0 on tables)")
            R -= self.cfg.mu * math.log(flops)
        if self.cfg.rho:
            dens = getattr(self.space, "density", None)
            if dens is None:
                raise NwotError(f"reward with rho={self.cfg.rho} needs space.density; "
                                f"space {self.space.name!r} has none")
            R -= self.cfg.rho * math.log(dens(arch))
        return R

    def ask(self) -> List[Arch]:
        eps, enc = self.epsilon, self.space.encode
        out: List[Arch] = []
        batch: set = set()
        tries = 0
        while len(out) < self.cfg.batch_size:
            actions = tuple(self.learner.episode(eps, self.rng))
            arch = self.mdp.arch_of(actions)
            key = enc(arch)
            tries += 1
            if key in self.rewards and tries <= self.cfg.max_resamples:
                self.memory.append((actions, self.rewards[key]))  # reuse, do not retrain
                self.repeats += 1
                continue
            if key in self.failed and tries <= self.cfg.max_resamples:
                self.repeats += 1  # a failed block is not retrained either (and has no reward to reuse)
                continue
            if key in batch and tries <= self.cfg.max_resamples:
                continue
            batch.add(key)
            self.episodes[key] = actions
            out.append(arch)
        return out

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        enc = self.space.encode
        for a, ev in zip(archs, evals):
            key = enc(a)
            actions = self.episodes.pop(key, None) or tuple(self.mdp.actions_of(a))
            if not ev.ok:
                self.failed[key] = str(ev.failure)
                continue
            R = self.reward(a, ev)
            self.rewards[key] = R
            self.memory.append((actions, R))
        if self.memory:
            for _ in range(self.cfg.replay_size):
                actions, R = self.memory[self.rng.randrange(len(self.memory))]
                self.learner.update(actions, R)
        self.iteration += 1

    def config(self) -> Dict[str, Any]:
        d = asdict(self.cfg)
        d["schedule"] = [list(x) for x in self.cfg.schedule]
        d.update({"iterations": self.iteration, "final_epsilon": self.epsilon, "repeats_reused": self.repeats,
                  "q_entries": len(self.learner.q), "failed": len(self.failed)})
        return d
