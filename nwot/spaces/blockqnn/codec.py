"""The BlockQNN block space: blocks written as Network Structure Codes (NSC).

Zhong et al., "Practical Block-wise Neural Network Architecture Generation", CVPR 2018
(arXiv:1708.05552), §3.1 and Table 1. A block is a list of layers, each a 5-tuple

    (index, type, kernel size, predecessor 1, predecessor 2)

=====  ==================  ============  ======  ======
type   name                kernel        pred 1  pred 2
=====  ==================  ============  ======  ======
1      convolution         1, 3, 5       K       0
2      max pooling         1, 3          K       0
3      average pooling     1, 3          K       0
4      identity            0             K       0
5      elementwise add     0             K       K
6      concat              0             K       K
7      terminal            0             0       0
=====  ==================  ============  ======  ======

Layer indices run 1, 2, ..., T; a predecessor K of layer i is 0 (the block's input) or an earlier
layer ``1 <= K < i``. The last layer is the terminal; the block's output concatenates every layer
that no other layer reads (BlockQNN §3.1). Convolutions are pre-activation ReLU-Conv-BN units.

Conventions of ours (the paper does not fix them): at most ``max_layers`` non-terminal layers
(default 10), at least one; add / concat take two *distinct* predecessors stored as ``pred1 < pred2``
(both ops are symmetric, so the two orders are one block).

Encoding: layers joined by ``;``, fields by ``,``: ``"1,1,3,0,0;2,2,3,0,0;3,6,0,1,2;4,7,0,0,0"``.

The space is also BlockQNN's decision process (:class:`~nwot.search.progressive.DecisionProcess`):
the state is the last layer's code (the start state is ``(0, 0, 0, 0, 0)``, the block input), an
action is the next layer's code, and a terminal layer ends the episode.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

CONV, MAX_POOL, AVG_POOL, IDENTITY, ADD, CONCAT, TERMINAL = 1, 2, 3, 4, 5, 6, 7
#: Layer type id -> (name, allowed kernel sizes, number of predecessors); BlockQNN Table 1.
LAYER_TYPES: Dict[int, Tuple[str, Tuple[int, ...], int]] = {
    CONV: ("convolution", (1, 3, 5), 1),
    MAX_POOL: ("max_pooling", (1, 3), 1),
    AVG_POOL: ("average_pooling", (1, 3), 1),
    IDENTITY: ("identity", (0,), 1),
    ADD: ("elementwise_add", (0,), 2),
    CONCAT: ("concat", (0,), 2),
    TERMINAL: ("terminal", (0,), 0),
}
#: Non-terminal layers per block unless told otherwise (ours).
DEFAULT_MAX_LAYERS = 10
START: Tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

Layer = Tuple[int, int, int, int, int]
Arch = Tuple[Layer, ...]


def layer_choices(index: int) -> List[Layer]:
    """Every valid non-terminal layer code at ``index`` (predecessors in 0..index-1)."""
    out: List[Layer] = []
    for t in (CONV, MAX_POOL, AVG_POOL, IDENTITY):
        for k in LAYER_TYPES[t][1]:
            out.extend((index, t, k, p, 0) for p in range(index))
    for t in (ADD, CONCAT):
        out.extend((index, t, 0, p1, p2) for p1 in range(index) for p2 in range(p1 + 1, index))
    return out


def terminal(index: int) -> Layer:
    return (index, TERMINAL, 0, 0, 0)


def successors(arch: Sequence[Layer]) -> Dict[int, List[int]]:
    """``{layer index: [indices of the layers reading it]}`` over non-terminal layers (0 = input)."""
    out: Dict[int, List[int]] = {0: []}
    for i, t, _, p1, p2 in arch:
        if t == TERMINAL:
            continue
        out.setdefault(i, [])
        preds = (p1, p2) if LAYER_TYPES[t][2] == 2 else (p1,)
        for p in preds:
            out.setdefault(p, []).append(i)
    return out


def output_layers(arch: Sequence[Layer]) -> List[int]:
    """Non-terminal layers without successors: their outputs are concatenated into the block output."""
    succ = successors(arch)
    return [i for i, t, *_ in arch if t != TERMINAL and not succ.get(i)]


def density(arch: Sequence[Layer]) -> float:
    """Edges / nodes of the block DAG (BlockQNN §3.4): nodes = input + non-terminal layers, edges = their
    predecessor links (1 per single-input layer, 2 per add / concat)."""
    layers = [l for l in arch if l[1] != TERMINAL]
    edges = sum(LAYER_TYPES[t][2] for _, t, *_ in layers)
    return edges / (1 + len(layers))


