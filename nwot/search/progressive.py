"""Spaces seen as progressions of growing cells (for PNAS) and as decision sequences (for BlockQNN).

PNAS (Liu et al., ECCV 2018, §3.2) needs a space whose cells are built one *level* at a time: the
level-1 cells (``roots``), the children of a cell (one more unit of structure), and a token sequence
per cell for its surrogate. :class:`~nwot.spaces.pnas.space.PNASCellSpace` is itself such a
:class:`Progression` (level = number of blocks). NAS-Bench-201 is adapted by
:class:`NB201EdgeProgression`.

**NB201 progression: by number of non-``none`` edges** (not node by node). Level b holds the cells
with exactly b edges that are not ``none``; the children of a cell turn one ``none`` edge into one
of the 4 other ops; level 1 = 6 edges x 4 ops = 24 cells, level b has ``C(6, b) 4^b`` cells
(24, 240, 1280, 3840, 6144, 4096), 15,624 in all (every cell but the all-``none`` one). This mirrors
PNAS's "one more block = one more operation" and every partial cell is a real NB201 cell, so the
table evaluator can score it as it is. (Node by node would need placeholder edges for the nodes not
yet decided.) Tokens: one ``(edge, op)`` pair per non-``none`` edge, in arch-string edge order.

BlockQNN (Zhong et al., CVPR 2018, §3.2) needs a finite-horizon decision process: a start state,
the valid actions of a state, the transition, and how an action sequence maps to an arch.
:class:`~nwot.spaces.blockqnn.space.BlockQNNSpace` is one (states and actions are layer codes);
:class:`NB201EdgeDecisions` makes NB201 a sequence of 6 edge decisions.
"""
from __future__ import annotations

from typing import Any, Dict, Hashable, List, Protocol, Sequence, Tuple, runtime_checkable

from nwot.errors import NwotError
from nwot.spaces import nb201
from nwot.spaces.base import Arch, SearchSpace


@runtime_checkable
class Progression(Protocol):
    """A space PNAS can grow cells in."""

    depth: int  # number of levels (PNAS's B)
    token_kinds: Tuple[str, ...]  # kind of each token of a block ("input", "op", ...); one embedding table per kind

    def roots(self) -> List[Arch]: ...  # all level-1 cells

    def children(self, arch: Arch) -> List[Arch]: ...  # the cells one level above ``arch`` that extend it

    def level(self, arch: Arch) -> int: ...

    def tokens(self, arch: Arch) -> List[Tuple[int, ...]]: ...  # one tuple of len(token_kinds) ids per block

    def token_vocab(self) -> Dict[str, int]: ...  # ids per kind


@runtime_checkable
class DecisionProcess(Protocol):
    """A finite-horizon MDP whose episodes spell architectures (BlockQNN's view of a space)."""

    def start_state(self) -> Hashable: ...

    def actions(self, state: Hashable) -> List[Hashable]: ...  # valid actions (non-empty unless terminal)

    def step(self, state: Hashable, action: Hashable) -> Hashable: ...  # next state

    def is_terminal(self, state: Hashable) -> bool: ...

    def arch_of(self, actions: Sequence[Hashable]) -> Arch: ...  # the arch an episode's actions spell

    def actions_of(self, arch: Arch) -> List[Hashable]: ...  # inverse of ``arch_of``


class NB201EdgeProgression:
    """NAS-Bench-201 grown one non-``none`` edge at a time (see the module docstring)."""

    depth = len(nb201.EDGES)
    token_kinds: Tuple[str, ...] = ("edge", "op")

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    def level(self, arch: Arch) -> int:
        return sum(op != "none" for op in nb201.check_ops(arch))

    def roots(self) -> List[Arch]:
        return self.children(("none",) * len(nb201.EDGES))

    def children(self, arch: Arch) -> List[Arch]:
        ops = nb201.check_ops(arch)
        return [ops[:e] + (o,) + ops[e + 1:] for e in range(len(ops)) if ops[e] == "none"
                for o in nb201.OPS if o != "none"]  # type: ignore[misc]

    def tokens(self, arch: Arch) -> List[Tuple[int, ...]]:
        return [(e, nb201.OPS.index(op)) for e, op in enumerate(nb201.check_ops(arch)) if op != "none"]

    def token_vocab(self) -> Dict[str, int]:
        return {"edge": len(nb201.EDGES), "op": len(nb201.OPS)}


class NB201EdgeDecisions:
    """NAS-Bench-201 as 6 decisions, one op per edge in arch-string order.

    State ``(t, previous op)`` (the last decision, as BlockQNN's state is the last layer); actions at
    ``t < 6``: ``(t, op)`` for the 5 ops; the state after ``(t, op)`` is ``(t + 1, op)``; terminal at t = 6.
    """

    horizon = len(nb201.EDGES)

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    def start_state(self) -> Hashable:
        return (0, None)

    def actions(self, state: Hashable) -> List[Hashable]:
        t = state[0]
        return [] if t >= self.horizon else [(t, op) for op in nb201.OPS]

    def step(self, state: Hashable, action: Hashable) -> Hashable:
        t, op = action
        if t != state[0]:
            raise NwotError(f"action {action!r} is not valid in state {state!r}")
        return (t + 1, op)

    def is_terminal(self, state: Hashable) -> bool:
        return state[0] >= self.horizon

    def arch_of(self, actions: Sequence[Hashable]) -> Arch:
        return nb201.check_ops([op for _, op in actions])

    def actions_of(self, arch: Arch) -> List[Hashable]:
        return [(t, op) for t, op in enumerate(nb201.check_ops(arch))]


#: Space name -> adapter class, for spaces that do not implement the protocol themselves.
PROGRESSIONS: Dict[str, Any] = {"nb201": NB201EdgeProgression}
DECISION_PROCESSES: Dict[str, Any] = {"nb201": NB201EdgeDecisions}


def progression_for(space: SearchSpace) -> Progression:
    """``space`` itself when it is a :class:`Progression`, else its registered adapter."""
    if isinstance(space, Progression):
        return space
    if space.name in PROGRESSIONS:
        return PROGRESSIONS[space.name](space)
    raise NwotError(f"PNAS cannot grow cells in space {space.name!r}; allowed: spaces implementing "
                    f"Progression (e.g. 'pnas') and {', '.join(sorted(PROGRESSIONS))}")


def decision_process_for(space: SearchSpace) -> DecisionProcess:
    """``space`` itself when it is a :class:`DecisionProcess`, else its registered adapter."""
    if isinstance(space, DecisionProcess):
        return space
    if space.name in DECISION_PROCESSES:
        return DECISION_PROCESSES[space.name](space)
    raise NwotError(f"BlockQNN cannot sequence space {space.name!r}; allowed: spaces implementing "
                    f"DecisionProcess (e.g. 'blockqnn') and {', '.join(sorted(DECISION_PROCESSES))}")
