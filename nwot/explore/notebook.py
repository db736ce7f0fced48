"""The explorer's views inline in Jupyter: plotly figures shown offline (:class:`InlineFigure`) and an
HTML inspector; :meth:`Explorer.app` runs the whole linked app in the output cell (Dash's
``jupyter_mode="inline"``, served from 127.0.0.1).

Offline: plotly's own ``notebook`` renderer embeds plotly.js but loads MathJax from a CDN for every
figure, so :class:`InlineFigure` writes its own bundle: the plotly mimetype (JupyterLab renders it
with its bundled plotly.js) and HTML whose first output in a kernel carries plotly.js inline, with
no MathJax and no other reference outside the notebook.

    ex = Explorer("nb201")
    ex.scatter(color="params")                 # all 15,625 cells, tau / rho in the corner
    ex.inspect(6111)                           # DAG, arch, metrics, isomorphism class
    ex.filter(has_path=True, edges={"0-1": "nor_conv_3x3"}).pareto(selected=6111)
    fig, trace = ex.replay("rea", budget_seconds=12000)
"""
from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from html import escape
from typing import Dict, Mapping, Optional, Sequence, Tuple

from nwot.errors import NwotError
from nwot.explore import figures
from nwot.explore.dag import cell_svg
from nwot.explore.data import ARCH, ISO_SIZE, ROLES, UNIQUE, ExploreConfig, SpaceTable, load_spaces
from nwot.explore.layout import format_value
from nwot.explore.replay import ReplaySpec, run_replay
from nwot.explore.select import Filters, apply_filters


class InlineFigure:
    """A plotly figure that Jupyter shows without any network (see the module docstring); the figure
    itself is ``.figure`` (its attributes are reachable on the wrapper too: ``.layout``, ``.data``)."""

    _plotlyjs_sent = False  # plotly.js goes with the first figure shown by this kernel
    CONFIG = {"displaylogo": False, "scrollZoom": True}

    def __init__(self, figure) -> None:
        self.figure = figure

    def __getattr__(self, name):
        if name.startswith("_"):  # not plotly's _ipython_display_ / _repr_html_: they would use its renderers
            raise AttributeError(name)
        return getattr(self.figure, name)

    def _repr_mimebundle_(self, include=None, exclude=None):
        import json

        import plotly.io as pio

        first = not InlineFigure._plotlyjs_sent
        InlineFigure._plotlyjs_sent = True
        html = self.figure.to_html(full_html=False, include_plotlyjs=first, include_mathjax=False,
                                   config=self.CONFIG, default_width="100%")
        fig = json.loads(pio.to_json(self.figure))
        return {"application/vnd.plotly.v1+json": {**fig, "config": self.CONFIG}, "text/html": html}


@dataclass(frozen=True)
class InspectorView:
    """One cell's inspector as HTML (Jupyter shows ``_repr_html_``)."""

    table: SpaceTable
    index: int

    def _repr_html_(self) -> str:
        t, i = self.table, self.index
        head = t.defaults["headline"]
        rows = []
        for role in ROLES:
            cols = t.columns(role)
            if cols:
                rows.append(f'<tr><th colspan="2" style="text-align:left;background:#eef">{role}</th></tr>')
                rows += [f"<tr><td>{escape(c)}</td><td style='text-align:right'>{format_value(t.frame.at[i, c], role)}"
                         "</td></tr>" for c in cols]
        members = t.iso_members(i)
        return (f"<div class='nwot-inspector'><h3>cell {i}</h3><p>{escape(head)}: <b>{t.frame.at[i, head]:.2f}</b></p>"
                f"{cell_svg(t.cell_kind, t.frame.at[i, ARCH])}<p><code>{escape(str(t.frame.at[i, ARCH]))}</code></p>"
                f"<p>isomorphism class ({int(t.frame.at[i, ISO_SIZE])} cells): "
                f"<code>{escape(str(t.frame.at[i, UNIQUE]))}"
                f"</code><br>members: {', '.join(map(str, members[:60]))}{' …' if len(members) > 60 else ''}</p>"
                f"<table style='font-size:12px'>{''.join(rows)}</table></div>")


class Explorer:
    """Inline views of one space; :meth:`filter` returns a new explorer with the cells narrowed down."""

    def __init__(self, space: str = "nb201", cfg: ExploreConfig = ExploreConfig(), filters: Filters = Filters(),
                 table: Optional[SpaceTable] = None) -> None:
        if table is None:
            loaded = load_spaces(cfg, [space.split(":")[0]])
            if space not in loaded or not isinstance(loaded[space], SpaceTable):
                why = loaded[space].reason if space in loaded else f"allowed: {', '.join(loaded)}"
                raise NwotError(f"space {space!r} cannot be explored: {why}")
            table = loaded[space]
        self.table, self.cfg, self.filters = table, cfg, filters
        self.mask = apply_filters(table, filters)

    def __repr__(self) -> str:
        desc = "; ".join(self.filters.describe()) or "no filter"
        return f"Explorer({self.table.name}: {int(self.mask.sum()):,} of {self.table.size:,} cells, {desc})"

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    @property
    def notices(self) -> Tuple[str, ...]:
        return self.table.errors + self.table.notices

    def filter(self, *, has_path: Optional[bool] = None, op_counts: Optional[Mapping[str, Tuple[int, int]]] = None,
               edges: Optional[Mapping[str, str]] = None,
               ranges: Optional[Mapping[str, Tuple[Optional[float], Optional[float]]]] = None) -> Explorer:
        """A new explorer with these conditions added (op -> (lo, hi); edge "j-i" -> op; column -> (lo, hi))."""
        f = self.filters
        f = replace(f, has_path=f.has_path if has_path is None else bool(has_path),
                    op_counts=f.op_counts + tuple((o, int(lo), int(hi)) for o, (lo, hi) in (op_counts or {}).items()),
                    edges=f.edges + tuple((e, o) for e, o in (edges or {}).items()),
                    ranges=f.ranges + tuple((c, lo, hi) for c, (lo, hi) in (ranges or {}).items()))
        return Explorer(self.table.name, self.cfg, f, self.table)

    def scatter(self, x: Optional[str] = None, y: Optional[str] = None, color: Optional[str] = "default", *,
                log_x: bool = False, log_y: bool = False, selected: Optional[int] = None, picked: Sequence[int] = (),
                best: Optional[int] = None):
        d = self.table.defaults
        x, y = self.table.check_column(x or d["x"]), self.table.check_column(y or d["y"])
        color = d["color"] if color == "default" else (None if color is None else self.table.check_column(color))
        return InlineFigure(figures.scatter_figure(
            self.table, x, y, color, self.mask, log_x=log_x, log_y=log_y,
            selected=None if selected is None else self.table.check_index(selected), picked=picked, best=best))

    def inspect(self, index: int) -> InspectorView:
        return InspectorView(self.table, self.table.check_index(index))

    def pareto(self, accuracy: Optional[str] = None, cost: Optional[str] = None, *, selected: Optional[int] = None,
               log_x: bool = True):
        d = self.table.defaults
        return InlineFigure(figures.pareto_figure(
            self.table, self.table.check_column(accuracy or d["accuracy"]), self.table.check_column(cost or d["cost"]),
            self.mask, selected=None if selected is None else self.table.check_index(selected), log_x=log_x))

    def replay(self, strategy: str = "rea", budget_seconds: float = 12_000.0, dataset: str = "cifar10", seed: int = 0,
               scores: Optional[str] = None):
        """``(figure, trace)`` of one search replay (see :mod:`nwot.explore.replay`)."""
        if scores is None and strategy in ("area", "naswot"):
            scores = next((s for c, s in self.table.sources.items() if self.table.roles.get(c) == "proxy"), None)
        trace, summary = run_replay(self.table, ReplaySpec(strategy, budget_seconds, dataset, seed, scores))
        return InlineFigure(figures.replay_figure(trace, summary)), trace

    def replay_scatter(self, trace, **kw):
        """The scatter with the replay's evaluated cells and its best cell marked."""
        from nwot.explore.replay import chosen_cells

        cells, best = chosen_cells(trace)
        return self.scatter(picked=[int(c) for c in cells], best=best, **kw)

    def correlations(self, columns: Optional[Sequence[str]] = None, method: str = "kendall"):
        cols = list(columns or self.table.columns("proxy"))
        if len(cols) < 2:
            return InlineFigure(figures.message_figure(f"{self.table.title} has {len(cols)} proxy column(s); "
                                                       "the matrix needs two"))
        return InlineFigure(figures.correlation_figure(self.table, cols, self.mask, method))

    def curves(self, index: int):
        from nwot.explore.curves import nats_curves

        if self.cfg.nats_dir is None:
            return InlineFigure(figures.message_figure("no --nats-dir / ExploreConfig(nats_dir=...) given"))
        c = nats_curves(str(self.cfg.nats_dir), self.table.check_index(index))
        return InlineFigure(figures.message_figure(c, height=160) if isinstance(c, str)
                            else figures.curves_figure(c, index))

    def counts(self) -> Dict[str, int]:
        """Visible cells, and per op how many visible cells use it."""
        from nwot.explore.select import op_usage

        return {"cells": self.count, **op_usage(self.table, self.mask)}

    def app(self, port: Optional[int] = None, height: int = 950):
        """The whole linked app in the output cell (served by this kernel on 127.0.0.1)."""
        from nwot.explore.app import create_app

        app = create_app({self.table.name: self.table}, self.cfg)
        port = port or _free_port()
        app.run(jupyter_mode="inline", host="127.0.0.1", port=port, jupyter_height=height, debug=False)
        return app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


__all__ = ["Explorer", "InlineFigure", "InspectorView"]
