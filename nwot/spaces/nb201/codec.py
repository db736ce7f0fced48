"""NAS-Bench-201 / NATS-Bench topology search space (TSS).

Dong & Yang, "NAS-Bench-201: Extending the Scope of Reproducible NAS", ICLR 2020, §2.1;
Dong et al., "NATS-Bench", TPAMI 2021. A cell is a DAG on 4 nodes; each of the 6 edges j -> i (j < i)
carries one of 5 ops, so the space has 5**6 = 15,625 cells.

Arch string (the benchmark's own format), edges grouped by target node i = 1, 2, 3::

    |op01~0|+|op02~0|op12~1|+|op03~0|op13~1|op23~2|

An :data:`Arch` here is the tuple of the 6 op names in that *string order*:
(0->1), (0->2), (1->2), (0->3), (1->3), (2->3).
"""
from __future__ import annotations

import random
from typing import Dict, List, Sequence, Tuple, Union

from nwot.errors import OutOfSpaceError

#: NB201 op names, in the AutoDL ``NAS_BENCH_201`` list order (their position is the NB201 op id).
OPS: Tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: The 6 edges (source j, target i) in arch-string order.
EDGES: Tuple[Tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_NODES = 4
NUM_ARCHS = len(OPS) ** len(EDGES)  # 15,625

Arch = Tuple[str, str, str, str, str, str]
ArchLike = Union[str, Sequence[str], Sequence[int]]


def parse_arch(s: str) -> Arch:
    """Parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` into the 6-op tuple (strict)."""
    if not isinstance(s, str):
        raise OutOfSpaceError(f"NB201 arch string must be a str, got {type(s).__name__}: {s!r}")
    nodes = s.split("+")
    if len(nodes) != NUM_NODES - 1:
        raise OutOfSpaceError(
            f"malformed NB201 arch string {s!r}: expected 3 '+'-separated nodes like "
            f"'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|', got {len(nodes)}"
        )
    ops: List[str] = []
    for i, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 3:
            raise OutOfSpaceError(f"malformed NB201 arch string {s!r}: node {i} {node!r} must look like '|op~j|...|'")
        parts = node[1:-1].split("|")
        if len(parts) != i:
            raise OutOfSpaceError(f"malformed NB201 arch string {s!r}: node {i} needs {i} inputs, got {len(parts)}")
        for j, part in enumerate(parts):
            op, sep, src = part.rpartition("~")
            if not sep or src != str(j):
                raise OutOfSpaceError(
                    f"malformed NB201 arch string {s!r}: edge {part!r} of node {i} must be 'op~{j}'"
                )
            if op not in OPS:
                raise OutOfSpaceError(f"unknown NB201 op {op!r} in {s!r}; allowed: {', '.join(OPS)}")
            ops.append(op)
    return tuple(ops)  # type: ignore[return-value]


def format_arch(arch: Sequence[str]) -> str:
    """Inverse of :func:`parse_arch`."""
    ops = check_ops(arch)
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)


def check_ops(arch: Sequence[str]) -> Arch:
    ops = tuple(arch)
    if len(ops) != len(EDGES):
        raise OutOfSpaceError(f"an NB201 arch has {len(EDGES)} edge ops, got {len(ops)}: {arch!r}")
    for op in ops:
        if op not in OPS:
            raise OutOfSpaceError(f"unknown NB201 op {op!r} in {arch!r}; allowed: {', '.join(OPS)}")
    return ops  # type: ignore[return-value]


def op_vector(arch: Sequence[str]) -> Tuple[int, ...]:
    """NB201 op ids in string order (MANIFEST: ``nb201_op_vector``)."""
    return tuple(OPS.index(op) for op in check_ops(arch))


def from_op_vector(vec: Sequence[int]) -> Arch:
    vec = tuple(vec)
    if len(vec) != len(EDGES):
        raise OutOfSpaceError(f"an NB201 op vector has {len(EDGES)} entries, got {len(vec)}: {vec!r}")
    for v in vec:
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(OPS):
            raise OutOfSpaceError(f"NB201 op id {v!r} out of range in {vec!r}; "
                                  f"allowed 0..{len(OPS) - 1} ({', '.join(OPS)})")
    return tuple(OPS[v] for v in vec)  # type: ignore[return-value]


def to_arch(x: ArchLike) -> Arch:
    """Normalise an arch string, op-name tuple or op-id vector to :data:`Arch` (not an index)."""
    if isinstance(x, str):
        return parse_arch(x)
    seq = tuple(x)
    if seq and all(isinstance(v, str) for v in seq):
        return check_ops(seq)
    return from_op_vector([int(v) if hasattr(v, "__index__") and not isinstance(v, bool) else v for v in seq])


def node_inputs(arch: ArchLike) -> Dict[int, List[Tuple[int, str]]]:
    """``{i: [(j, op), ...]}`` for target nodes i = 1..3 (``arch``: anything :func:`to_arch` accepts)."""
    ops = to_arch(arch)
    out: Dict[int, List[Tuple[int, str]]] = {i: [] for i in range(1, NUM_NODES)}
    for (j, i), op in zip(EDGES, ops):
        out[i].append((j, op))
    return out


def has_path(arch: ArchLike) -> bool:
    """True when some input->output path avoids ``none`` (341 of the 15,625 cells have none)."""
    reach = {0}
    for i, ins in node_inputs(arch).items():
        if any(j in reach and op != "none" for j, op in ins):
            reach.add(i)
    return NUM_NODES - 1 in reach


def sample(rng: random.Random) -> Arch:
    """Uniform sample over all 15,625 cells."""
    return tuple(rng.choice(OPS) for _ in EDGES)  # type: ignore[return-value]


def mutate(arch: Sequence[str], rng: random.Random) -> Arch:
    """Change the op of one uniformly chosen edge to a *different* op (REA's mutation, Real et al. 2019)."""
    ops = list(check_ops(arch))
    e = rng.randrange(len(ops))
    ops[e] = rng.choice([op for op in OPS if op != ops[e]])
    return tuple(ops)  # type: ignore[return-value]


def neighbours(arch: Sequence[str]) -> List[Arch]:
    """All 24 cells at one-edge distance."""
    ops = check_ops(arch)
    return [ops[:e] + (op,) + ops[e + 1:] for e in range(len(ops)) for op in OPS if op != ops[e]]  # type: ignore[misc]


def unique_str(arch: ArchLike) -> str:
    """Isomorphism-canonical form of a cell: cells with equal strings compute the same function graph.

    NATS-Bench's ``UniqueString`` (AutoDL ``Structure.to_unique_str(consider_zero=True)``; Dong et al.,
    NATS-Bench, TPAMI 2021): 15,625 cells fall into 6,466 classes. Node strings are built recursively,
    ``s_0 = "0"`` and ``s_i = "+".join(sorted(term(op_ji, s_j) for j < i))`` with::

        term(none, s)          = "#"              (zero)
        term(op, "#")          = "#"              (any op of a zero node is zero)
        term(skip_connect, s)  = s                (identity passes the string through)
        term(op, s)            = "(" + s + ")@" + op

    The form is ``s_3``. Zero terms are kept as ``"#"`` in the sum (so ``"#+0"`` differs from ``"0"``) and
    only a node that is exactly ``"#"`` (a single zero input, i.e. node 1) counts as zero for its consumers;
    the all-``none`` cell gives ``"#+#+#"``. It is the benchmark's grouping, not a minimal one: e.g. ``"#+0"``
    and ``"0"`` compute the same function but are different classes.
    """
    nodes = ["0"]
    for ins in node_inputs(to_arch(arch)).values():
        terms = []
        for j, op in ins:
            s = nodes[j]
            if op == "none" or s == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(s)
            else:
                terms.append(f"({s})@{op}")
        nodes.append("+".join(sorted(terms)))
    return nodes[-1]
