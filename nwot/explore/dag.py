"""Cells drawn as SVG DAGs (no web imports): NB201 with ops as labelled edges, NB101 with ops on nodes.

NB201 (Dong & Yang, ICLR 2020, Fig. 1): nodes 0..3 are feature maps, each edge j -> i applies one op
of ``none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3`` and node i sums its inputs. The
geometry never changes, so :func:`nb201_template` is one SVG with tokens ``__OP<k>__``,
``__LABEL<k>__``, ``__COLOR<k>__``, ``__DASH<k>__`` per edge k (arch-string order); :func:`fill_nb201`
replaces them, and the static export's script does the same replacement with :data:`OP_STYLE`.

NB101 (Ying et al., ICML 2019): up to 7 nodes in topological order, ops on the nodes, edges from the
upper-triangular adjacency matrix.
"""
from __future__ import annotations

from html import escape
from typing import Dict, List, Sequence, Tuple

from nwot.spaces.nb201.codec import EDGES, OPS, to_arch

#: op -> (short label, colour, stroke-dasharray) of its edge or node.
OP_STYLE: Dict[str, Tuple[str, str, str]] = {
    "none": ("none", "#b0b0b0", "4 3"),
    "skip_connect": ("skip", "#1f77b4", "none"),
    "nor_conv_1x1": ("conv 1x1", "#ff7f0e", "none"),
    "nor_conv_3x3": ("conv 3x3", "#d62728", "none"),
    "avg_pool_3x3": ("avg pool 3x3", "#2ca02c", "none"),
    "conv1x1-bn-relu": ("1x1", "#ff7f0e", "none"),
    "conv3x3-bn-relu": ("3x3", "#d62728", "none"),
    "maxpool3x3": ("pool", "#2ca02c", "none"),
    "input": ("in", "#555555", "none"),
    "output": ("out", "#555555", "none"),
}
_NODE_X = (40, 150, 260, 370)
_Y = 125
#: per edge (j, i): control point height offset of its quadratic curve (0 = straight).
_BEND = {(0, 1): 0, (1, 2): 0, (2, 3): 0, (0, 2): -50, (1, 3): 50, (0, 3): -95}
W, H = 410, 215


def _edge_geometry(j: int, i: int) -> Tuple[str, float, float]:
    """SVG path of edge j -> i (stopping short of the node circles) and its label position."""
    x0, x1 = _NODE_X[j] + 16, _NODE_X[i] - 18
    bend = _BEND[(j, i)]
    cx, cy = (x0 + x1) / 2, _Y + 2 * bend
    lx, ly = 0.25 * x0 + 0.5 * cx + 0.25 * x1, 0.5 * _Y + 0.5 * cy
    if bend == 0:
        return f"M{x0},{_Y} L{x1},{_Y}", (x0 + x1) / 2, _Y - 8
    return f"M{x0},{_Y} Q{cx},{cy} {x1},{_Y}", lx, ly + (-6 if bend < 0 else 14)


def nb201_template() -> str:
    """The NB201 cell SVG with per-edge tokens (see the module docstring)."""
    parts: List[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        'font-family="sans-serif" class="nwot-dag">',
        '<title>NB201 cell: __ARCH__</title>',
        '<defs><marker id="nwot-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
        'markerWidth="11" markerHeight="11" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>']
    for k, (j, i) in enumerate(EDGES):
        path, lx, ly = _edge_geometry(j, i)
        parts.append(f'<g class="edge" data-edge="{j}-{i}" data-op="__OP{k}__">'
                     f'<path d="{path}" fill="none" stroke="__COLOR{k}__" stroke-width="2.5" '
                     f'stroke-dasharray="__DASH{k}__" marker-end="url(#nwot-arrow)"/>'
                     f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12" text-anchor="middle" fill="__COLOR{k}__" '
                     f'stroke="white" stroke-width="3" paint-order="stroke">__LABEL{k}__</text></g>')
    for n, x in enumerate(_NODE_X):
        parts.append(f'<g class="node"><circle cx="{x}" cy="{_Y}" r="15" fill="#f7f7f7" stroke="#333" '
                     f'stroke-width="1.5"/><text x="{x}" y="{_Y + 5}" font-size="14" text-anchor="middle">{n}'
                     '</text></g>')
    parts.append(f'<text x="{_NODE_X[0]}" y="{H - 8}" font-size="11" text-anchor="middle" fill="#666">in</text>')
    parts.append(f'<text x="{_NODE_X[-1]}" y="{H - 8}" font-size="11" text-anchor="middle" fill="#666">out</text>')
    parts.append("</svg>")
    return "".join(parts)


def fill_nb201(template: str, ops: Sequence[str], arch: str = "") -> str:
    """Replace the template's tokens for the 6 ``ops`` (arch-string order)."""
    out = template.replace("__ARCH__", escape(arch))
    for k, op in enumerate(ops):
        label, color, dash = OP_STYLE[op]
        out = (out.replace(f"__OP{k}__", op).replace(f"__LABEL{k}__", escape(label))
               .replace(f"__COLOR{k}__", color).replace(f"__DASH{k}__", dash))
    return out


def nb201_svg(arch) -> str:
    """SVG of one NB201 cell (arch string, op names or op ids)."""
    from nwot.spaces.nb201.codec import format_arch

    ops = to_arch(arch)
    return fill_nb201(nb201_template(), ops, format_arch(ops))


def nb101_svg(spec) -> str:
    """SVG of one NB101 cell: ops on the nodes (left to right), edges of the adjacency matrix as arcs."""
    from nwot.spaces.nb101.codec import encode_spec, to_spec

    s = to_spec(spec)
    n = len(s.ops)
    step = 78
    w, h, y = 40 + step * (n - 1) + 40, 220, 110
    xs = [40 + step * k for k in range(n)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
             'font-family="sans-serif" class="nwot-dag">', f"<title>NB101 cell: {escape(encode_spec(s))}</title>",
             '<defs><marker id="nwot-arrow101" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" '
             'markerWidth="10" markerHeight="10" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#444"/></marker></defs>']
    flip = 1
    for j in range(n):
        for i in range(j + 1, n):
            if not s.matrix[j][i]:
                continue
            x0, x1 = xs[j] + 20, xs[i] - 21
            if i == j + 1:
                parts.append(f'<path d="M{x0},{y} L{x1},{y}" stroke="#444" stroke-width="1.8" fill="none" '
                             'marker-end="url(#nwot-arrow101)"/>')
                continue
            bend = flip * min(95, 22 * (i - j))
            flip = -flip
            parts.append(f'<path d="M{xs[j]},{y + (12 if bend > 0 else -12)} Q{(xs[j] + xs[i]) / 2},{y + 2 * bend} '
                         f'{xs[i]},{y + (12 if bend > 0 else -12)}" stroke="#444" stroke-width="1.5" fill="none" '
                         'marker-end="url(#nwot-arrow101)"/>')
    for x, op in zip(xs, s.ops):
        label, color, _ = OP_STYLE.get(op, (op, "#555555", "none"))
        parts.append(f'<g class="node" data-op="{escape(op)}"><rect x="{x - 20}" y="{y - 12}" width="40" height="24" '
                     f'rx="5" fill="white" stroke="{color}" stroke-width="2"/><text x="{x}" y="{y + 4}" font-size="11" '
                     f'text-anchor="middle" fill="{color}">{escape(label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def cell_svg(kind: str, arch: str) -> str:
    """SVG of a cell given the table's ``cell_kind``; ``""`` for spaces drawn without a DAG."""
    if kind == "nb201":
        return nb201_svg(arch)
    if kind == "nb101":
        return nb101_svg(arch)
    return ""


__all__ = ["OP_STYLE", "OPS", "cell_svg", "fill_nb201", "nb101_svg", "nb201_svg", "nb201_template"]
