"""The open NASNet / AmoebaNet cell space: arch maths (pure; no torch, no files).

Zoph et al., "Learning Transferable Architectures for Scalable Image Recognition", CVPR 2018 (NASNet, §3) and
Real et al., "Regularized Evolution for Image Classifier Architecture Search", AAAI 2019 (§2, Fig. 2): a network
stacks a *normal* and a *reduction* cell; each cell has ``n`` pairwise combinations (``n = 5`` in both papers).
Combination ``k`` of a cell picks two hidden states from

    {h_0, h_1} ∪ {h_2, ..., h_{k+1}}      (the two previous cells' outputs, then the earlier combinations)

applies one op to each and adds them: ``h_{k+2} = op_a(h_{in_a}) + op_b(h_{in_b})``. The cell's output is the
concatenation of every combination output that no combination of the cell reads (NASNet's "unused hidden states").

**An arch is one flat tuple** of ``2 * n * 4`` values, normal cell first, then reduction cell; per combination
``(in_a, op_a, in_b, op_b)``, ``in`` an int in ``0 .. k+1``. It is a product of categorical choices
(:func:`choices`), so factorised-policy strategies (REINFORCE) search it as they search NB201. No symmetry is
removed: swapping the two halves of a combination is another arch (the papers' controllers and mutations do not
remove it either).

**Mutation** (Real et al. 2019, §2 "mutations", Fig. 2): choose the normal or the reduction cell, one of its
``n`` combinations and one of its two halves uniformly; with probability 1/2 a *hidden-state mutation* (the half's
input becomes another allowed state of that combination; no loops are possible since only earlier states are
allowed) else an *op mutation* (the half's op becomes another op). The child always differs from the parent.

Encoding (one ``|op~input|op~input|`` group per combination, ``+`` between combinations, ``//`` between the
normal and the reduction cell)::

    |sep_conv_3x3~1|skip_connect~0|+|...|//|max_pool_3x3~0|sep_conv_7x7~1|+|...|

:func:`genotype` gives the NDS / DARTS genotype dict that :mod:`nwot.spaces.nds.cell_model` builds.
"""
from __future__ import annotations

import random
from typing import Any, Dict, List, Sequence, Tuple

from nwot.errors import NwotError, OutOfSpaceError

#: Inputs 0 and 1 of a cell are the outputs of cells c-2 and c-1.
NUM_CELL_INPUTS = 2
#: Pairwise combinations per cell in NASNet and AmoebaNet.
DEFAULT_NODES = 5
#: The AmoebaNet op set (Real et al. 2019, §2: identity, 3x3 / 5x5 / 7x7 separable convolutions, 3x3 average and
#: max pooling, 3x3 dilated separable convolution, 1x7-then-7x1 convolution), named as NDS / pycls name them
#: (``skip_connect`` = identity). Equal to :data:`nwot.spaces.nds.cell_model.SPACE_OPS` ``["Amoeba"]``.
AMOEBA_OPS: Tuple[str, ...] = ("skip_connect", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7", "avg_pool_3x3",
                               "max_pool_3x3", "dil_sep_conv_3x3", "conv_7x1_1x7")
CELLS: Tuple[str, ...] = ("normal", "reduce")
#: Values per combination: (in_a, op_a, in_b, op_b).
PER_NODE = 4

Arch = Tuple[Any, ...]


def arch_length(nodes: int) -> int:
    return len(CELLS) * nodes * PER_NODE


def choices(nodes: int, ops: Sequence[str]) -> Tuple[Tuple[Any, ...], ...]:
    """Allowed values per position of the flat arch: inputs ``0..k+1`` of combination ``k``, then an op, twice."""
    out: List[Tuple[Any, ...]] = []
    for _ in CELLS:
        for k in range(nodes):
            inputs = tuple(range(k + NUM_CELL_INPUTS))
            out += [inputs, tuple(ops), inputs, tuple(ops)]
    return tuple(out)


def check(arch: Any, nodes: int, ops: Sequence[str]) -> Arch:
    """``arch`` as a tuple if every position holds an allowed value; else :class:`OutOfSpaceError` naming it."""
    try:
        vals = tuple(arch)
    except TypeError as e:
        raise OutOfSpaceError(f"a nasnet arch is a flat tuple of {arch_length(nodes)} values, got {arch!r}") from e
    if len(vals) != arch_length(nodes):
        raise OutOfSpaceError(f"a nasnet arch with {nodes} combinations per cell has {arch_length(nodes)} values "
                              f"(2 cells x {nodes} x (in_a, op_a, in_b, op_b)), got {len(vals)}")
    for p, (v, allowed) in enumerate(zip(vals, choices(nodes, ops))):
        if isinstance(v, bool) or v not in allowed:
            cell, k, slot = position(p, nodes)
            what = "input" if slot in (0, 2) else "op"
            raise OutOfSpaceError(f"{cell} cell, combination {k}: {what} {v!r} not allowed; allowed: "
                                  f"{', '.join(map(str, allowed))}")
    return vals


def position(p: int, nodes: int) -> Tuple[str, int, int]:
    """(cell name, combination, slot 0..3) of flat position ``p``."""
    per_cell = nodes * PER_NODE
    return CELLS[p // per_cell], (p % per_cell) // PER_NODE, p % PER_NODE


def cell_nodes(arch: Arch, cell: str, nodes: int) -> List[Tuple[int, str, int, str]]:
    """The ``(in_a, op_a, in_b, op_b)`` combinations of ``cell`` ("normal" or "reduce")."""
    start = CELLS.index(cell) * nodes * PER_NODE
    return [tuple(arch[start + PER_NODE * k: start + PER_NODE * (k + 1)]) for k in range(nodes)]  # type: ignore[misc]


def unused_states(combos: Sequence[Tuple[int, str, int, str]]) -> Tuple[int, ...]:
    """States ``h_2 .. h_{n+1}`` that no combination reads (the cell's concatenated output); never empty, since
    nothing can read the last combination."""
    used = {c[0] for c in combos} | {c[2] for c in combos}
    return tuple(s for s in range(NUM_CELL_INPUTS, NUM_CELL_INPUTS + len(combos)) if s not in used)


def genotype(arch: Arch, nodes: int) -> Dict[str, Any]:
    """The NDS / DARTS genotype dict (``normal``, ``normal_concat``, ``reduce``, ``reduce_concat``) of ``arch``."""
    out: Dict[str, Any] = {}
    for cell in CELLS:
        combos = cell_nodes(arch, cell, nodes)
        out[cell] = [[op, i] for ia, oa, ib, ob in combos for op, i in ((oa, ia), (ob, ib))]
        out[f"{cell}_concat"] = list(unused_states(combos))
    return out


def sample(rng: random.Random, nodes: int, ops: Sequence[str]) -> Arch:
    """Every position uniform over its allowed values."""
    return tuple(rng.choice(allowed) for allowed in choices(nodes, ops))


def mutate(arch: Arch, rng: random.Random, nodes: int, ops: Sequence[str]) -> Arch:
    """Real et al. 2019's hidden-state or op mutation (module docstring); the child always differs."""
    vals = list(check(arch, nodes, ops))
    cell = rng.randrange(len(CELLS))
    k = rng.randrange(nodes)
    half = rng.randrange(2)
    base = cell * nodes * PER_NODE + PER_NODE * k + 2 * half
    if rng.random() < 0.5 or len(ops) < 2:  # hidden-state mutation (combination 0 always has 2 inputs)
        vals[base] = rng.choice([i for i in range(k + NUM_CELL_INPUTS) if i != vals[base]])
    else:
        vals[base + 1] = rng.choice([o for o in ops if o != vals[base + 1]])
    return tuple(vals)


def encode(arch: Arch, nodes: int, ops: Sequence[str]) -> str:
    arch = check(arch, nodes, ops)
    return "//".join("+".join(f"|{oa}~{ia}|{ob}~{ib}|" for ia, oa, ib, ob in cell_nodes(arch, c, nodes))
                     for c in CELLS)


def decode(s: Any, nodes: int, ops: Sequence[str]) -> Arch:
    if not isinstance(s, str) or s.count("//") != 1:
        raise OutOfSpaceError(f"a nasnet arch string is '<normal cell>//<reduction cell>', each "
                              f"'|op~i|op~j|+|op~i|op~j|+...', got {s!r}")
    vals: List[Any] = []
    for cell, part in zip(CELLS, s.split("//")):
        groups = part.split("+")
        if len(groups) != nodes:
            raise OutOfSpaceError(f"{cell} cell of {s!r} has {len(groups)} combinations, the space has {nodes}")
        for k, g in enumerate(groups):
            halves = g[1:-1].split("|") if g.startswith("|") and g.endswith("|") else []
            if len(halves) != 2:
                raise OutOfSpaceError(f"malformed combination {k} {g!r} of the {cell} cell; expected '|op~i|op~j|'")
            for h in halves:
                op, sep, i = h.rpartition("~")
                if not sep or not i.isdigit():
                    raise OutOfSpaceError(f"malformed half {h!r} in the {cell} cell of {s!r}; expected 'op~input'")
                vals += [int(i), op]
    return check(tuple(vals), nodes, ops)


def check_ops(ops: Sequence[str], known: Sequence[str]) -> Tuple[str, ...]:
    """``ops`` as a tuple of distinct known op names (at least 2)."""
    ops = tuple(ops)
    bad = [o for o in ops if o not in known]
    if bad or len(set(ops)) != len(ops) or len(ops) < 2:
        raise NwotError(f"ops must be >= 2 distinct names from {', '.join(known)}; got {ops!r}")
    return ops
