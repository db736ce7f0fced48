"""Server-side pieces of the explorer app: replay cache, the inspector, NATS curves, counts (no callbacks)."""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from typing import Optional

import numpy as np
from dash import html, no_update

from nwot.errors import NwotError
from nwot.explore import figures
from nwot.explore.curves import nats_curves
from nwot.explore.dag import cell_svg
from nwot.explore.data import ARCH, ISO_SIZE, UNIQUE, ExploreConfig, SpaceTable
from nwot.explore.layout import metric_rows, svg_src
from nwot.explore.replay import chosen_cells
from nwot.explore.select import Filters

MAX_MEMBERS = 60


class ReplayCache:
    """Replays of this server process, by token (the browser only keeps the token and the summary)."""

    def __init__(self, size: int = 16) -> None:
        self._items: OrderedDict[str, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def put(self, value) -> str:
        token = uuid.uuid4().hex
        with self._lock:
            self._items[token] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return token

    def get(self, token: Optional[str]):
        with self._lock:
            return self._items.get(token) if token else None


def cell_of(table: SpaceTable, text: str) -> int:
    """Index from the go-to box: an index, or an arch string of the table (NB201: any accepted spelling)."""
    text = (text or "").strip()
    if text.lstrip("-").isdigit():
        return table.check_index(text)
    archs = table.frame[ARCH]
    hit = archs.index[archs == text]
    if len(hit) == 0 and table.cell_kind == "nb201":
        from nwot.spaces.nb201.codec import format_arch, to_arch

        hit = archs.index[archs == format_arch(to_arch(text))]
    if len(hit) == 0:
        raise NwotError(f"{text!r} is neither an index nor an arch string of {table.name}")
    return int(hit[0])


def scatter_key(space, x, y, color, log, store) -> str:
    """What the scatter's cells depend on (not the selection nor the replay marks)."""
    import json

    return json.dumps([space, x, y, color, sorted(log or []), store], sort_keys=True)


def warm_up(t: SpaceTable) -> None:
    """Build and serialise the default views once, so that the first page load does not pay for the first
    use of plotly's validators and scipy (1.5 s measured on the 2-core machine)."""
    import plotly.io as pio

    d = t.defaults
    everything = np.ones(t.size, dtype=bool)
    for fig in (figures.scatter_figure(t, d["x"], d["y"], d["color"], everything),
                figures.pareto_figure(t, d["accuracy"], d["cost"], everything), figures.message_figure("")):
        pio.to_json(fig)


def count_line(t: SpaceTable, mask: np.ndarray, f: Filters):
    out = [html.Strong(f"{int(mask.sum()):,}", id="count-value"), f" of {t.size:,} cells"]
    if f.describe():
        out.append(html.Div("; ".join(f.describe()), className="filter-desc"))
    return out


def replay_marks(replays: ReplayCache, replay, pos, space):
    hit = replays.get(replay.get("token")) if replay and replay.get("space") == space else None
    if hit is None:
        return (), None
    cells, best = chosen_cells(hit[0], pos)
    return [int(c) for c in cells], best


def inspector_view(t: SpaceTable, i: int):
    head_col = t.defaults["headline"]
    v = t.frame.at[i, head_col]
    members = t.iso_members(i)
    svg = cell_svg(t.cell_kind, t.frame.at[i, ARCH])
    shown = members[:MAX_MEMBERS]
    return html.Div([
        html.H3(f"cell {i}", id="inspector-index"),
        html.Div([html.Span(f"{head_col}: "), html.Strong(f"{v:.2f}", id="inspector-headline-value")],
                 id="inspector-headline", className="headline"),
        html.Img(src=svg_src(svg), id="inspector-dag", alt=t.frame.at[i, ARCH], className="dag") if svg else None,
        html.Code(t.frame.at[i, ARCH], id="inspector-arch", className="arch"),
        html.Details([html.Summary(f"isomorphism class: {int(t.frame.at[i, ISO_SIZE])} cell(s)"),
                      html.Code(str(t.frame.at[i, UNIQUE]), className="arch"),
                      html.Div([html.Button(str(m), id={"type": "member", "index": m},
                                            className="member" + (" current" if m == i else ""))
                                for m in shown] + ([html.Span(f" … and {len(members) - len(shown)} more")]
                                                   if len(members) > len(shown) else []), className="members")],
                     open=True, id="inspector-iso"),
        html.Div(html.Table(metric_rows(t, i), id="inspector-metrics", className="metrics"), className="metrics-box"),
    ])


def curves_view(cfg: ExploreConfig, t: SpaceTable, i: int):
    """(figure, style, message) of the NATS training curves of cell ``i``."""
    hidden = {"display": "none"}
    if t.name != "nb201":
        return no_update, hidden, ""
    if cfg.nats_dir is None:
        return no_update, hidden, "NATS training curves: start nwot explore with --nats-dir <NATS-tss archive folder>"
    curves = nats_curves(str(cfg.nats_dir), int(i))
    if isinstance(curves, str):
        return no_update, hidden, f"No NATS training curves: {curves}"
    return figures.curves_figure(curves, i), {}, ""
