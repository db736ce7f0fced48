"""The BlockQNN block space as a registered :class:`~nwot.spaces.base.SearchSpace`.

Arch maths live in :mod:`nwot.spaces.blockqnn.codec`, the network in :mod:`nwot.spaces.blockqnn.model`.
"""

from __future__ import annotations

import random
from typing import Any, Hashable, List, Sequence

from nwot.errors import NwotError, OutOfSpaceError
from nwot.spaces.base import check_build_compat, register_space
from nwot.spaces.blockqnn.codec import (
    DEFAULT_MAX_LAYERS,
    LAYER_TYPES,
    START,
    TERMINAL,
    Arch,
    density,
    layer_choices,
    terminal,
)
from nwot.spaces.blockqnn.model import build_blockqnn_net


@register_space("blockqnn")
class BlockQNNSpace:
    """BlockQNN blocks of 1..``max_layers`` non-terminal layers (see the module docstring)."""

    name = "blockqnn"
    #: Build kwargs of the networks trained under each training preset (nwot.evaluators.train.PRESETS);
    #: blockqnn_proxy's C = 32, N = 2 are ours (the paper stacks its block in a larger network).
    train_build = {"cpu_tiny": {"C": 8, "N": 1}, "blockqnn_proxy": {"C": 32, "N": 2}}

    def __init__(self, max_layers: int = DEFAULT_MAX_LAYERS) -> None:
        if isinstance(max_layers, bool) or not isinstance(max_layers, int) or max_layers < 1:
            raise NwotError(f"max_layers must be an int >= 1, got {max_layers!r}")
        self.max_layers = max_layers

    # -- codec ------------------------------------------------------------------------------------
    def check(self, arch: Any) -> Arch:
        """Validate a block (sequence of 5-int layer codes ending in a terminal); raise :class:`OutOfSpaceError`."""
        try:
            layers = tuple(tuple(int(v) if not isinstance(v, bool) else v for v in l) for l in arch)
        except (TypeError, ValueError) as e:
            raise OutOfSpaceError(
                f"a BlockQNN block is a sequence of (index, type, kernel, pred1, pred2) codes, got {arch!r}"
            ) from e
        if len(layers) < 2:
            raise OutOfSpaceError(f"a block needs >= 1 layer and a terminal, got {arch!r}")
        if len(layers) - 1 > self.max_layers:
            raise OutOfSpaceError(f"a block has at most {self.max_layers} non-terminal layers, got {len(layers) - 1}")
        for pos, layer in enumerate(layers, start=1):
            if len(layer) != 5 or any(isinstance(v, bool) for v in layer):
                raise OutOfSpaceError(f"layer {pos} must be 5 ints (index, type, kernel, pred1, pred2), got {layer!r}")
            i, t, k, p1, p2 = layer
            if i != pos:
                raise OutOfSpaceError(f"layer {pos} has index {i}; indices must run 1, 2, ... in order")
            if t not in LAYER_TYPES:
                raise OutOfSpaceError(
                    f"layer {i}: unknown type {t}; allowed: "
                    + ", ".join(f"{k_} = {v[0]}" for k_, v in LAYER_TYPES.items())
                )
            name, kernels, n_pred = LAYER_TYPES[t]
            if (t == TERMINAL) != (pos == len(layers)):
                raise OutOfSpaceError(f"layer {i}: the terminal (type 7) must be the last layer and only the last")
            if k not in kernels:
                raise OutOfSpaceError(f"layer {i} ({name}): kernel {k} not allowed; allowed: {kernels}")
            if n_pred == 0:
                if (p1, p2) != (0, 0):
                    raise OutOfSpaceError(f"layer {i} (terminal) must have predecessors 0, 0, got {p1}, {p2}")
            elif n_pred == 1:
                if not 0 <= p1 < i or p2 != 0:
                    raise OutOfSpaceError(
                        f"layer {i} ({name}): pred1 must be in 0..{i - 1} and pred2 0, got {p1}, {p2}"
                    )
            elif not 0 <= p1 < p2 < i:
                raise OutOfSpaceError(
                    f"layer {i} ({name}): needs two distinct predecessors 0 <= pred1 < pred2 < {i}, got {p1}, {p2}"
                )
        return layers  # type: ignore[return-value]

    def is_valid(self, arch: Any) -> bool:
        try:
            self.check(arch)
            return True
        except OutOfSpaceError:
            return False

    def encode(self, arch: Arch) -> str:
        return ";".join(",".join(str(v) for v in l) for l in self.check(arch))

    def decode(self, s: str) -> Arch:
        if not isinstance(s, str) or not s:
            raise OutOfSpaceError(f"a BlockQNN code looks like '1,1,3,0,0;2,7,0,0,0', got {s!r}")
        try:
            layers = [tuple(int(v) for v in part.split(",")) for part in s.split(";")]
        except ValueError as e:
            raise OutOfSpaceError(f"malformed BlockQNN code {s!r}: layers are ';'-separated lists of 5 ints") from e
        arch = self.check(layers)
        if self.encode(arch) != s:
            raise OutOfSpaceError(f"{s!r} is not in canonical form; canonical: {self.encode(arch)!r}")
        return arch

    def density(self, arch: Arch) -> float:
        return density(self.check(arch))

    # -- decision process (BlockQNN §3.2) ---------------------------------------------------------
    def start_state(self) -> Hashable:
        return START

    def actions(self, state: Hashable) -> List[Hashable]:
        """Layer codes allowed after ``state`` (the last layer): the next index's layers, or the terminal."""
        nxt = state[0] + 1
        if self.is_terminal(state):
            return []
        if nxt > self.max_layers:
            return [terminal(nxt)]
        return layer_choices(nxt) + ([terminal(nxt)] if nxt >= 2 else [])

    def step(self, state: Hashable, action: Hashable) -> Hashable:
        if action[0] != state[0] + 1:
            raise NwotError(f"layer {action!r} cannot follow {state!r}")
        return action

    def is_terminal(self, state: Hashable) -> bool:
        return state[1] == TERMINAL

    def arch_of(self, actions: Sequence[Hashable]) -> Arch:
        return self.check(actions)

    def actions_of(self, arch: Arch) -> List[Hashable]:
        return list(self.check(arch))

    # -- search-space protocol ----------------------------------------------------------------------
    def sample(self, rng: random.Random) -> Arch:
        """An episode of uniformly random actions (BlockQNN's epsilon = 1 exploration)."""
        state, layers = self.start_state(), []
        while not self.is_terminal(state):
            a = rng.choice(self.actions(state))
            layers.append(a)
            state = self.step(state, a)
        return self.check(layers)

    def mutate(self, arch: Arch, rng: random.Random) -> Arch:
        """Replace one uniformly chosen non-terminal layer by a different valid layer at the same index."""
        layers = list(self.check(arch))
        i = rng.randrange(len(layers) - 1)
        layers[i] = rng.choice([l for l in layer_choices(i + 1) if l != layers[i]] or [layers[i]])
        return self.check(layers)

    def build(self, arch: Arch, num_classes: int = 10, *, compat: str = "clean", **kwargs: Any):
        """The network of ``arch`` (``compat``: one network for both scorer modes here)."""
        check_build_compat(self.name, compat)
        return build_blockqnn_net(self.check(arch), num_classes=num_classes, **kwargs)
