"""The ``lse`` space: large-scale evolution's open space of DAG networks (Real et al., ICML 2017, §3).

* :meth:`LseSpace.sample` is the paper's initial individual: a trivial model with no hidden layers (the
  image goes straight to global pooling and the classifier) and learning rate 0.1, with a fresh ``uid``;
* :meth:`LseSpace.mutate` applies one of the 11 mutations (:mod:`nwot.spaces.lse.mutations`) and returns
  the child with a new ``uid`` and ``parent`` = the parent's ``uid`` -- the lineage an evaluator needs to
  start the child from its parent's trained weights (:mod:`nwot.evaluators.lineage`);
* :meth:`LseSpace.build` builds the network He-initialised from a generator seeded by the individual's
  ``uid`` (or by ``init_seed``), so every individual's initialisation is its own and reproducible.

``uid`` values are 16 hex digits drawn from the caller's ``random.Random``: a search is deterministic
per seed, and two runs with different seeds never share names.
"""
from __future__ import annotations

import random
from typing import Any, Sequence, Tuple, Union

import torch

from nwot.errors import NwotError
from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.lse.codec import (
    CIFAR_SHAPE,
    Genome,
    Individual,
    Shape,
    check,
    decode,
    encode,
    structure_key,
    trivial_genome,
)
from nwot.spaces.lse.model import LseNet, build
from nwot.spaces.lse.mutations import MUTATIONS, check_mutations, mutate


def new_uid(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def uid_seed(uid: str) -> int:
    """The init seed of an individual: its uid read as a 63-bit integer."""
    return int(uid, 16) & (2 ** 63 - 1)


@register_space("lse")
class LseSpace:
    """Open DAG space of large-scale evolution. ``image`` = (channels, height, width) of the inputs."""

    name = "lse"
    #: Children inherit their parent's trained weights (Real et al. 2017, §3.2): a training evaluator on this
    #: space attaches the lineage hook (:class:`nwot.evaluators.lineage.LseLineage`, see train_setup).
    weight_inheritance = True

    def __init__(self, image: Sequence[int] = CIFAR_SHAPE, initial_lr: float = 0.1,
                 mutations: Sequence[str] = MUTATIONS) -> None:
        image = tuple(image)
        if len(image) != 3 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in image):
            raise NwotError(f"LSE image shape must be 3 positive ints (channels, height, width), got {image!r}")
        if not isinstance(initial_lr, (int, float)) or isinstance(initial_lr, bool) or not initial_lr > 0:
            raise NwotError(f"LSE initial_lr must be > 0, got {initial_lr!r}")
        self.image: Shape = image  # type: ignore[assignment]
        self.initial_lr = float(initial_lr)
        self.mutations: Tuple[str, ...] = check_mutations(mutations)

    def sample(self, rng: random.Random) -> Individual:
        return Individual(trivial_genome(self.initial_lr), new_uid(rng))

    def mutate(self, arch: Individual, rng: random.Random) -> Individual:
        m = mutate(self._genome(arch), rng, self.image, self.mutations)
        return Individual(m.genome, new_uid(rng), arch.uid, m.mutation, len(m.rejected),
                          tuple(f"{name}: {why}" for name, why in m.rejected))

    def encode(self, arch: Individual) -> str:
        if not isinstance(arch, Individual):
            raise NwotError(f"an lse arch is an Individual, got {type(arch).__name__}: {arch!r}")
        check(arch.genome, self.image)
        return encode(arch)

    def decode(self, s: str) -> Individual:
        return decode(s, self.image)

    def structure_key(self, arch: Union[Individual, Genome]) -> str:
        """Key of the network ``arch`` builds (no lineage, no learning rate): equal keys, equal networks."""
        return structure_key(self._genome(arch))

    def build(self, arch: Union[Individual, Genome], num_classes: int = 10, init_seed: Any = None, *,
              compat: str = "clean", **kwargs: Any) -> LseNet:
        """The network of ``arch``, He-initialised from ``init_seed`` (default: the individual's uid); one
        network for both scorer modes (``compat``)."""
        check_build_compat(self.name, compat)
        if kwargs:
            raise NwotError(f"the lse space's build takes num_classes, init_seed and compat only, got {sorted(kwargs)}")
        if init_seed is None:
            if not isinstance(arch, Individual):
                raise NwotError("building a bare Genome needs an init_seed (an Individual is seeded by its uid)")
            init_seed = uid_seed(arch.uid)
        gen = torch.Generator().manual_seed(int(init_seed))
        return build(self._genome(arch), num_classes, self.image, gen)

    @staticmethod
    def _genome(arch: Union[Individual, Genome]) -> Genome:
        if isinstance(arch, Individual):
            return arch.genome
        if isinstance(arch, Genome):
            return arch
        raise NwotError(f"an lse arch is an Individual (or a Genome), got {type(arch).__name__}: {arch!r}")
