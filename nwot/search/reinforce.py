"""REINFORCE (Williams, "Simple statistical gradient-following algorithms for connectionist
reinforcement learning", Machine Learning 1992) with the factorised policy of NAS-Bench-201 /
NATS-Bench (``exps/NATS-algos/reinforce.py``).

Policy: one logit vector ``theta_p`` per position p (edge / layer), ``pi(a) = prod_p softmax(theta_p)[a_p]``,
logits initialised ``~ N(0, 1e-3^2)``. Per step, with reward ``R`` = search signal:

* baseline (bias-corrected exponential moving average, momentum ``m = 0.9``), updated *before* use:
  ``num <- m num + (1-m) R``, ``den <- m den + (1-m)``, ``b = num / den``;
* loss ``L = -(R - b) sum_p log softmax(theta_p)[a_p]``, so
  ``dL/dtheta_p = -(R - b) (onehot(a_p) - softmax(theta_p))``;
* Adam (Kingma & Ba, ICLR 2015, Alg. 1; lr 0.01, beta = (0.9, 0.999), eps = 1e-8, as ``torch.optim.Adam``):
  ``m_t = b1 m + (1-b1) g``, ``v_t = b2 v + (1-b2) g^2``,
  ``theta <- theta - lr (m_t / (1-b1^t)) / (sqrt(v_t / (1-b2^t)) + eps)``.

Pure numpy; actions are drawn with ``self.rng`` (inverse CDF of ``rng.random()``). The reported arch is
the best by search signal over the trace (NATS-Bench's choice; NB201's first version reported the
policy's argmax, :meth:`Reinforce.argmax_arch`). A failed evaluation (``Evaluation.failure``, e.g. a
cell refused by a cost constraint) gives no policy step: the next draw is from the same policy.

**Asynchronous use** (``asynchrony = "any"``, as Zoph & Le's NAS-RL controller took its rewards from
asynchronous workers): ``ask`` samples from the current policy and changes nothing but the RNG, so several
asks may be in flight; each tell is one policy step, applied when its reward arrives, with the baseline and
the logits as they are then (a stale sample: the action was drawn from the policy of its ask). With one
worker this is exactly the synchronous algorithm.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Sequence

import numpy as np

from nwot.errors import NwotError
from nwot.evaluators.base import Evaluation
from nwot.search.base import Strategy, register_strategy
from nwot.search.categorical import categorical_view
from nwot.spaces.base import Arch


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return z / z.sum()


def sample_index(probs: np.ndarray, u: float) -> int:
    """Inverse-CDF draw: the first k with ``u < sum(probs[:k+1])``."""
    k = int(np.searchsorted(np.cumsum(probs), u, side="right"))
    return min(k, len(probs) - 1)


@register_strategy("reinforce")
class Reinforce(Strategy):
    name = "reinforce"
    asynchrony = "any"

    def __init__(self, space, rng, learning_rate: float = 0.01, baseline_momentum: float = 0.9,
                 init_std: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(space, rng)
        if not learning_rate > 0 or not 0 <= baseline_momentum < 1:
            raise NwotError(f"REINFORCE needs learning_rate > 0 and 0 <= baseline_momentum < 1, got "
                            f"{learning_rate}, {baseline_momentum}")
        self.view = categorical_view(space, "REINFORCE")
        self.lr, self.momentum, self.init_std = learning_rate, baseline_momentum, init_std
        self.betas, self.eps = (float(betas[0]), float(betas[1])), eps
        self.logits = [np.array([rng.gauss(0.0, init_std) for _ in c]) for c in self.view.choices]
        self._m = [np.zeros_like(t) for t in self.logits]
        self._v = [np.zeros_like(t) for t in self.logits]
        self.t = 0
        self._num = self._den = 0.0

    # --- policy -------------------------------------------------------------------
    def probs(self) -> List[np.ndarray]:
        return [softmax(t) for t in self.logits]

    def argmax_arch(self) -> Arch:
        return self.view.from_indices([int(np.argmax(t)) for t in self.logits])

    @property
    def baseline(self) -> float:
        return self._num / self._den

    def ask(self) -> List[Arch]:
        idx = [sample_index(p, self.rng.random()) for p in self.probs()]
        return [self.view.from_indices(idx)]

    def tell(self, archs: Sequence[Arch], evals: Sequence[Evaluation]) -> None:
        for a, ev in zip(archs, evals):
            if ev.ok:
                self.update(self.view.to_indices(a), float(ev.signal))

    def update(self, actions: Sequence[int], reward: float) -> None:
        """One REINFORCE step for the sampled ``actions`` (choice index per position) and ``reward``."""
        if not math.isfinite(reward):
            raise NwotError(f"REINFORCE needs a finite reward, got {reward!r} for actions {tuple(actions)}")
        self._num = self.momentum * self._num + (1 - self.momentum) * reward
        self._den = self.momentum * self._den + (1 - self.momentum)
        advantage = reward - self.baseline
        b1, b2 = self.betas
        self.t += 1
        for p, (theta, a) in enumerate(zip(self.logits, actions)):
            onehot = np.zeros_like(theta)
            onehot[a] = 1.0
            g = -advantage * (onehot - softmax(theta))
            self._m[p] = b1 * self._m[p] + (1 - b1) * g
            self._v[p] = b2 * self._v[p] + (1 - b2) * g * g
            m_hat = self._m[p] / (1 - b1 ** self.t)
            v_hat = self._v[p] / (1 - b2 ** self.t)
            self.logits[p] = theta - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def config(self) -> Dict[str, Any]:
        return {"learning_rate": self.lr, "baseline_momentum": self.momentum, "init_std": self.init_std,
                "optimizer": "adam", "betas": list(self.betas), "eps": self.eps}
