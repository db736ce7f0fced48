"""Plotly figures of the explorer's views, shared by the server app, the notebook views and the export.

Each function maps a table (or a replay trace), a mask of the visible cells and the view's choices to a
``plotly.graph_objects.Figure``. Point identity travels in ``customdata`` (the benchmark index), which
is what a click reports; it is a plain list, because plotly.js leaves a typed-array ``customdata`` out
of a WebGL trace's click events. The scatter uses WebGL (``Scattergl``) for the cells and SVG markers only for
the few highlighted ones as later WebGL traces (selected cell, replay picks), so that they stay on top.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from nwot.explore.data import SpaceTable
from nwot.explore.select import correlation_matrix, dominators, pareto_front, rank_correlation

TEMPLATE = "plotly_white"
COLORSCALE = "Viridis"
SELECTED = dict(symbol="star", size=18, color="#e6194b", line=dict(color="black", width=1.5))
PICKED = dict(symbol="circle-open", size=9, color="#f58231", line=dict(width=2))
BEST = dict(symbol="diamond", size=13, color="#f58231", line=dict(color="black", width=1))


def _edge_value(v: np.ndarray, log: bool) -> float:
    """Where ``-inf`` values are drawn: just below the smallest finite (positive, on a log axis) value."""
    fin = v[np.isfinite(v) & ((v > 0) if log else True)]
    if fin.size == 0:
        return 1.0 if log else 0.0
    lo, hi = float(fin.min()), float(fin.max())
    return lo / 1.15 if log else lo - 0.04 * ((hi - lo) or 1.0)


def scatter_xy(table: SpaceTable, x: str, y: str, mask: np.ndarray, log_x: bool = False, log_y: bool = False):
    """Plot positions of the masked cells: ``(index, xs, ys, singular, notes)``; ``singular`` marks cells
    with a ``-inf`` coordinate (drawn at the axis edge); cells without a value (or <= 0 on a log axis)
    are left out and counted in ``notes``."""
    df = table.frame[mask]
    xv, yv = df[x].to_numpy(dtype=float), df[y].to_numpy(dtype=float)
    notes = []
    keep = ~(np.isnan(xv) | np.isnan(yv))
    if (~keep).sum():
        notes.append(f"{int((~keep).sum()):,} cells have no value for {x if np.isnan(xv).any() else y}")
    for v, name, log in ((xv, x, log_x), (yv, y, log_y)):
        if log:
            bad = keep & np.isfinite(v) & (v <= 0)
            if bad.any():
                notes.append(f"log axis: {int(bad.sum()):,} cells with {name} <= 0 hidden")
            keep &= ~bad
    singular = np.isneginf(xv) | np.isneginf(yv)
    xs = np.where(np.isneginf(xv), _edge_value(xv, log_x), xv)
    ys = np.where(np.isneginf(yv), _edge_value(yv, log_y), yv)
    return df.index.to_numpy()[keep], xs[keep], ys[keep], singular[keep], notes


def _hover(x: str, y: str, c: Optional[str]) -> str:
    h = f"index %{{customdata}}<br>{x} = %{{x:.5g}}<br>{y} = %{{y:.5g}}"
    return h + (f"<br>{c} = %{{marker.color:.5g}}" if c else "") + "<extra></extra>"


def scatter_figure(table: SpaceTable, x: str, y: str, color: Optional[str], mask: np.ndarray, *,
                   log_x: bool = False, log_y: bool = False, selected: Optional[int] = None,
                   picked: Sequence[int] = (), best: Optional[int] = None, height: int = 560) -> go.Figure:
    """All masked cells, ``x`` against ``y`` coloured by ``color``, Kendall tau / Spearman rho of the
    plotted cells in the corner, the selected cell as a star and replay picks as open circles."""
    idx, xs, ys, singular, notes = scatter_xy(table, x, y, mask, log_x, log_y)
    tau, rho, n = rank_correlation(table.frame.loc[idx, x].to_numpy(), table.frame.loc[idx, y].to_numpy())
    fig = go.Figure()
    reg = ~singular
    cvals = table.frame.loc[idx, color].to_numpy(dtype=float) if color else None
    has_c = np.isfinite(cvals) if cvals is not None else np.zeros(len(idx), dtype=bool)
    plain = reg & ~has_c
    fig.add_trace(go.Scattergl(x=xs[plain], y=ys[plain], customdata=idx[plain].tolist(), mode="markers",
                               name="no colour value",
                               marker=dict(size=4, color="#bbbbbb"), hovertemplate=_hover(x, y, None),
                               showlegend=bool(plain.any())))
    col = reg & has_c
    fig.add_trace(go.Scattergl(
        x=xs[col], y=ys[col], customdata=idx[col].tolist(), mode="markers", name="cells", showlegend=False,
        marker=dict(size=4, color=cvals[col] if cvals is not None else None, colorscale=COLORSCALE, opacity=0.75,
                    colorbar=dict(title=dict(text=color, side="right"), thickness=12) if color else None),
        hovertemplate=_hover(x, y, color)))
    fig.add_trace(go.Scattergl(
        x=xs[singular], y=ys[singular], customdata=idx[singular].tolist(), mode="markers",
        name=f"-inf (singular, {int(singular.sum()):,})", showlegend=bool(singular.any()),
        marker=dict(symbol="triangle-down", size=7, color="#7f7f7f"),
        hovertemplate="index %{customdata}: -inf (singular kernel)<extra></extra>"))
    fig.add_traces(overlay_traces(table, x, y, log_x, log_y, picked, best, selected))
    corner = (f"Kendall τ = {tau:.3f}   Spearman ρ = {rho:.3f}   n = {n:,}" if n >= 3 and np.isfinite(tau)
              else f"τ / ρ undefined (n = {n:,})")
    fig.add_annotation(text=corner, xref="paper", yref="paper", x=0.01, y=0.99, xanchor="left", yanchor="top",
                       showarrow=False, bgcolor="rgba(255,255,255,0.85)", bordercolor="#999", borderwidth=1,
                       font=dict(size=13), name="taurho")
    if notes:
        fig.add_annotation(text="; ".join(notes), xref="paper", yref="paper", x=0.01, y=-0.13, xanchor="left",
                           showarrow=False, font=dict(size=11, color="#8a6d3b"))
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=60, r=20, t=30, b=70),
                      xaxis=dict(title=x, type="log" if log_x else "linear"),
                      yaxis=dict(title=y, type="log" if log_y else "linear"),
                      legend=dict(orientation="h", y=1.06, x=1, xanchor="right"), hovermode="closest",
                      uirevision=f"{table.name}|{x}|{y}|{log_x}|{log_y}", clickmode="event",
                      meta=dict(n=n, tau=tau, rho=rho, x=x, y=y, color=color))
    return fig


#: Trace order of :func:`scatter_figure` (the app patches the overlay traces in place).
SCATTER_TRACES = ("no colour value", "cells", "singular", "replay: evaluated", "replay: best so far", "selected")
OVERLAY_START = 3


def overlay_traces(table: SpaceTable, x: str, y: str, log_x: bool, log_y: bool, picked: Sequence[int] = (),
                   best: Optional[int] = None, selected: Optional[int] = None):
    """Replay picks, the best pick and the selected cell, in that order (WebGL too: WebGL draws above
    SVG, and later traces above earlier ones); an empty trace where there is nothing to mark. They are
    drawn whatever the filters."""
    out = []
    for cells, style, name in ((picked, PICKED, SCATTER_TRACES[3]), ([] if best is None else [best], BEST,
                                                                      SCATTER_TRACES[4]),
                               ([] if selected is None else [selected], SELECTED, SCATTER_TRACES[5])):
        m = np.zeros(table.size, dtype=bool)
        cells = [c for c in cells if c in table.frame.index]
        m[table.frame.index.get_indexer(cells)] = True
        idx, xs, ys, _, _ = scatter_xy(table, x, y, m, log_x, log_y)
        out.append(go.Scattergl(x=xs, y=ys, customdata=idx.tolist(), mode="markers", name=name, marker=style,
                              showlegend=bool(len(idx)), hovertemplate=f"{name}: index %{{customdata}}<extra></extra>"))
    return out


def pareto_figure(table: SpaceTable, accuracy: str, cost: str, mask: np.ndarray, *, selected: Optional[int] = None,
                  log_x: bool = True, height: int = 480) -> go.Figure:
    """Masked cells (grey), their Pareto front of max ``accuracy`` / min ``cost`` (highlighted, as a
    staircase) and the selected cell with the number of cells that dominate it."""
    df = table.frame[mask]
    a, c = df[accuracy].to_numpy(dtype=float), df[cost].to_numpy(dtype=float)
    ok = np.isfinite(a) & np.isfinite(c) & ((c > 0) if log_x else True)
    df, a, c = df[ok], a[ok], c[ok]
    front = pareto_front(a, c)
    order = np.argsort(c[front])
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=c, y=a, customdata=df.index.to_numpy().tolist(), mode="markers", name="cells",
                               marker=dict(size=4, color="#c7c7c7"),
                               hovertemplate=f"index %{{customdata}}<br>{cost} = %{{x:.5g}}<br>{accuracy} = "
                                             "%{y:.5g}<extra></extra>"))
    front_idx = df.index.to_numpy()[front][order].tolist()
    fig.add_trace(go.Scattergl(x=c[front][order], y=a[front][order], customdata=front_idx,
                             mode="lines+markers", line=dict(shape="hv", color="#3cb44b", width=2.5),
                             marker=dict(size=8, color="#3cb44b"), name=f"Pareto front ({int(front.sum())} cells)",
                             hovertemplate="front: index %{customdata}<br>%{x:.5g}, %{y:.5g}<extra></extra>"))
    title = f"Pareto front: max {accuracy} vs min {cost} over {len(df):,} cells"
    if selected is not None and selected in table.frame.index:
        sa, sc = float(table.frame.at[selected, accuracy]), float(table.frame.at[selected, cost])
        if np.isfinite(sa) and np.isfinite(sc):
            k = dominators(np.append(a, sa), np.append(c, sc), len(a))
            where = "on the front" if k == 0 else f"dominated by {k:,} cell{'s' if k > 1 else ''}"
            fig.add_trace(go.Scattergl(x=[sc], y=[sa], customdata=[selected], mode="markers", marker=SELECTED,
                                     name=f"selected {selected}: {where}",
                                     hovertemplate=f"selected: index {selected} ({where})<extra></extra>"))
            title += f" — cell {selected} is {where}"
    fig.update_layout(template=TEMPLATE, height=height, title=dict(text=title, font=dict(size=14)),
                      xaxis=dict(title=cost, type="log" if log_x else "linear"), yaxis=dict(title=accuracy),
                      margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.18),
                      uirevision=f"pareto|{table.name}|{accuracy}|{cost}|{log_x}")
    return fig


def replay_figure(trace: pd.DataFrame, summary: dict, position: Optional[int] = None, height: int = 420) -> go.Figure:
    """Best-so-far cell's accuracy against simulated time (staircase), every evaluated cell's accuracy
    (dots), and the replay position as a vertical line."""
    col = summary.get("report_column", "accuracy")
    fig = go.Figure()
    ev = trace[trace["kind"] == "eval"]
    side = trace[trace["kind"] != "eval"]
    fig.add_trace(go.Scattergl(x=ev["time"], y=ev["accuracy"], customdata=ev["index"].astype(int).tolist(),
                               mode="markers",
                             marker=dict(size=5, color="#9fb7d9"), name="evaluated cell",
                             hovertemplate="step %{text}: index %{customdata}<br>t = %{x:.0f} s<br>%{y:.2f}"
                                           "<extra></extra>",
                             text=ev["step"]))
    if not side.empty:
        fig.add_trace(go.Scattergl(x=side["time"], y=side["accuracy"], customdata=side["index"].astype(int).tolist(),
                                   mode="markers", marker=dict(size=4, color="#d9b99f", symbol="x"),
                                   name=f"{side['kind'].iloc[0]} (side)",
                                 hovertemplate="index %{customdata}<br>t = %{x:.1f} s<extra></extra>"))
    best = trace.dropna(subset=["best_accuracy"])
    fig.add_trace(go.Scatter(x=best["time"], y=best["best_accuracy"],
                             customdata=best["best_index"].astype(int).tolist(),
                             mode="lines", line=dict(shape="hv", color="#f58231", width=3), name="best so far",
                             hovertemplate="best so far: index %{customdata}<br>t = %{x:.0f} s<br>%{y:.2f}"
                                           "<extra></extra>"))
    if position is not None and not trace.empty:
        fig.add_shape(position_line(trace, position))
    title = (f"{summary.get('strategy')} on {summary.get('dataset')}, "
             f"budget {summary.get('budget_seconds', 0):,.0f} s: "
             f"{summary.get('evaluations')} evaluations, best cell {summary.get('best_index')} "
             f"({col} = {summary.get('best_accuracy', float('nan')):.2f})")
    fig.update_layout(template=TEMPLATE, height=height, title=dict(text=title, font=dict(size=14)),
                      xaxis=dict(title="simulated time (s)"), yaxis=dict(title=f"{col} (200 epochs)"),
                      margin=dict(l=60, r=20, t=50, b=50), legend=dict(orientation="h", y=-0.2))
    return fig


def position_line(trace: pd.DataFrame, position: int) -> dict:
    """The replay position as a vertical line at the simulated time of step ``position``."""
    before = trace[trace["step"] <= position]
    t = float((before if len(before) else trace).iloc[-1 if len(before) else 0]["time"])
    return dict(type="line", x0=t, x1=t, xref="x", y0=0, y1=1, yref="paper", line=dict(color="#444", dash="dot"))


def correlation_figure(table: SpaceTable, columns: Sequence[str], mask: np.ndarray, method: str = "kendall",
                       height: int = 520) -> go.Figure:
    """Heatmap of pairwise Kendall tau (or Spearman rho) over the masked cells, values written in the cells."""
    val, cnt = correlation_matrix(table, columns, mask, method)
    text = [[("" if np.isnan(v) else f"{v:.3f}") for v in row] for row in val]
    fig = go.Figure(go.Heatmap(z=val, x=list(columns), y=list(columns), zmin=-1, zmax=1, colorscale="RdBu",
                               reversescale=False, text=text, texttemplate="%{text}", customdata=cnt,
                               hovertemplate="%{y} vs %{x}: %{z:.3f} (n = %{customdata:,})<extra></extra>",
                               colorbar=dict(title="τ" if method == "kendall" else "ρ")))
    fig.update_layout(template=TEMPLATE, height=height, margin=dict(l=150, r=20, t=40, b=150),
                      title=dict(text=f"{'Kendall τ' if method == 'kendall' else 'Spearman ρ'} between proxies, "
                                      f"{int(mask.sum()):,} cells (pairwise complete)", font=dict(size=14)),
                      yaxis=dict(autorange="reversed"))
    return fig


def curves_figure(curves: pd.DataFrame, index: int, height: int = 430) -> go.Figure:
    """NATS training curves: accuracy per epoch, one line per dataset and split."""
    fig = go.Figure()
    for (ds, split), g in curves.groupby(["dataset", "split"], sort=False):
        fig.add_trace(go.Scatter(x=g["epoch"], y=g["accuracy"], mode="lines", name=f"{ds} {split}",
                                 line=dict(dash="dot" if split == "train" else "solid", width=1.5)))
    fig.update_layout(template=TEMPLATE, height=height, title=dict(text=f"NATS-Bench training curves, cell {index}",
                                                                   font=dict(size=13)),
                      xaxis=dict(title="epoch"), yaxis=dict(title="accuracy (%)"),
                      margin=dict(l=50, r=10, t=40, b=40), legend=dict(font=dict(size=9), orientation="h", y=-0.25))
    return fig


def message_figure(text: str, height: int = 300) -> go.Figure:
    """An empty figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=14))
    fig.update_layout(template=TEMPLATE, height=height, xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig
