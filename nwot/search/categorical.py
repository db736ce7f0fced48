"""A space seen as a product of categorical choices, for strategies that model each position
separately (REINFORCE's factorised policy, TPE's per-dimension densities).

NB201 (and NATS-TSS): 6 edges x 5 ops, an arch is the tuple of the 6 op names. NATS-SSS: 5 layers x
8 channel counts, an arch is the tuple of the 5 channel counts. A space declares its positions with a
``choices`` attribute (one tuple of allowed values per position, arch = tuple of one value per
position); NB201-style spaces (``ops`` and ``edges``) are read as ``len(edges)`` positions over ``ops``,
NATS-SSS-style spaces (``channels`` and ``num_layers``) as ``num_layers`` positions over ``channels``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence, Tuple

from nwot.errors import NwotError, OutOfSpaceError
from nwot.spaces.base import Arch, SearchSpace


@dataclass(frozen=True)
class CategoricalView:
    """Positions of a product space and the allowed values of each."""

    choices: Tuple[Tuple[Any, ...], ...]  # choices[p] = allowed values at position p

    def to_indices(self, arch: Arch) -> Tuple[int, ...]:
        vals = tuple(arch)  # type: ignore[arg-type]
        if len(vals) != len(self.choices):
            raise OutOfSpaceError(f"arch {arch!r} has {len(vals)} positions, the space has {len(self.choices)}")
        out = []
        for p, (v, allowed) in enumerate(zip(vals, self.choices)):
            if v not in allowed:
                raise OutOfSpaceError(f"value {v!r} at position {p} of {arch!r} is not one of {allowed!r}")
            out.append(allowed.index(v))
        return tuple(out)

    def from_indices(self, idx: Sequence[int]) -> Arch:
        if len(idx) != len(self.choices):
            raise OutOfSpaceError(f"{len(idx)} choice indices for a space of {len(self.choices)} positions")
        return tuple(allowed[int(k)] for allowed, k in zip(self.choices, idx))


def categorical_view(space: SearchSpace, strategy: str = "this strategy") -> CategoricalView:
    """The :class:`CategoricalView` of ``space`` (``space.choices``, or NB201-style ``ops`` x ``edges``)."""
    choices = getattr(space, "choices", None)
    if choices is None and hasattr(space, "ops") and hasattr(space, "edges"):
        choices = (tuple(space.ops),) * len(space.edges)
    if choices is None and hasattr(space, "channels") and hasattr(space, "num_layers"):
        choices = (tuple(space.channels),) * int(space.num_layers)
    if choices is None:
        raise NwotError(
            f"{strategy} needs a space that is a product of categorical choices (a `choices` attribute, "
            f"`ops` and `edges`, or `channels` and `num_layers`); "
            f"space {getattr(space, 'name', space)!r} has none of these"
        )
    view = CategoricalView(tuple(tuple(c) for c in choices))
    if not view.choices or any(len(c) < 2 for c in view.choices):
        raise NwotError(f"space {getattr(space, 'name', space)!r} declares degenerate choices {view.choices!r}")
    return view
