"""Dash components of the explorer page (no callbacks): the static frame and the per-space controls."""
from __future__ import annotations

import base64
from typing import Dict, List, Mapping, Optional

from dash import dcc, html

from nwot.explore.data import OPS_PREFIX, ROLES, Loaded, SpaceTable, Unavailable
from nwot.explore.replay import REPLAY_STRATEGIES, REPORT_COLUMNS

RANGE_SLOTS = 3
GRAPH_CONFIG = {"displaylogo": False, "scrollZoom": True, "toImageButtonOptions": {"format": "png", "scale": 2}}


def column_options(table: SpaceTable, roles=ROLES) -> List[Dict[str, str]]:
    """Dropdown options grouped by role (accuracy, proxy, cost, metric)."""
    return [{"label": f"{c}  ·  {r}", "value": c} for r in roles for c in table.columns(r)]


def space_options(spaces: Mapping[str, Loaded]) -> List[dict]:
    return [{"label": t.title if isinstance(t, SpaceTable) else f"{t.title} (unavailable)", "value": name,
             "disabled": isinstance(t, Unavailable)} for name, t in spaces.items()]


def svg_src(svg: str) -> str:
    """An SVG as a ``data:`` URI for ``html.Img`` (no request leaves the page)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def filter_panel(table: SpaceTable) -> html.Div:
    """Filter controls of one space (ids carry the space): has-path, op counts, fixed edges, column ranges.
    Every space's panel is in the page from the start, shown only while its space is, so that the first
    render never waits for controls to be built."""
    sp = table.name
    out: List = [html.Div([dcc.Checklist(id={"type": "f-haspath", "space": sp},
                                         options=[{"label": " only cells with an input→output path", "value": "on"}],
                                         value=[])], className="filter-block")]
    if table.ops:
        rows = []
        for op in table.ops:
            hi = int(table.frame[OPS_PREFIX + op].max())
            rows.append(html.Div([
                html.Div([html.Span(f"#{op}", className="op-name"),
                          html.Span(f"in {int((table.frame[OPS_PREFIX + op] > 0).sum()):,} cells",
                                    id={"type": "f-op-usage", "space": sp, "op": op}, className="usage")],
                         className="op-head"),
                dcc.RangeSlider(id={"type": "f-op", "space": sp, "op": op}, min=0, max=hi, step=1, value=[0, hi],
                                marks={k: str(k) for k in range(hi + 1)}, allowCross=False, updatemode="mouseup")],
                className="op-row"))
        out.append(html.Details([html.Summary("op counts per type"), *rows], open=True, className="filter-block"))
    if table.edges:
        rows = [html.Div([html.Label(f"edge {e}", className="edge-name"),
                          dcc.Dropdown(id={"type": "f-edge", "space": sp, "edge": e}, options=["any", *table.ops],
                                       value="any", clearable=False, className="edge-dd")], className="edge-row")
                for e in table.edges]
        out.append(html.Details([html.Summary("edges fixed to an op"), *rows], open=True, className="filter-block"))
    rows = []
    for k in range(RANGE_SLOTS):
        rows.append(html.Div([
            dcc.Dropdown(id={"type": "f-rcol", "space": sp, "slot": k}, options=column_options(table), value=None,
                         placeholder="column…", className="range-col"),
            html.Div([dcc.Input(id={"type": "f-rlo", "space": sp, "slot": k}, type="number", placeholder="min",
                                debounce=True, className="range-in"),
                      dcc.Input(id={"type": "f-rhi", "space": sp, "slot": k}, type="number", placeholder="max",
                                debounce=True, className="range-in")], className="range-bounds")],
            className="range-row"))
    out.append(html.Details([html.Summary("ranges of any column"), *rows], open=True, className="filter-block"))
    return html.Div(out, id={"type": "panel", "space": sp}, style={"display": "none"})


def replay_panel() -> html.Div:
    return html.Div([
        html.Div([
            html.Label("strategy"), dcc.Dropdown(id="replay-strategy", options=list(REPLAY_STRATEGIES), value="rea",
                                                 clearable=False, className="small-dd"),
            html.Label("budget (simulated s)"), dcc.Input(id="replay-budget", type="number", value=12000, min=1,
                                                          className="num"),
            html.Label("dataset"), dcc.Dropdown(id="replay-dataset", options=list(REPORT_COLUMNS), value="cifar10",
                                                clearable=False, className="small-dd"),
            html.Label("seed"), dcc.Input(id="replay-seed", type="number", value=0, min=0, step=1, className="num"),
            html.Label("stored scores (area, naswot)"), dcc.Dropdown(id="replay-scores", options=[], value=None,
                                                                     className="wide-dd"),
            html.Button("Run replay", id="replay-run", n_clicks=0, className="primary"),
            html.Button("▶ play", id="replay-play", n_clicks=0)], className="replay-controls"),
        html.Div(id="replay-message", className="message"),
        dcc.Slider(id="replay-pos", min=0, max=1, step=1, value=1, marks=None, tooltip={"placement": "bottom"},
                   updatemode="drag"),
        dcc.Graph(id="replay-graph", config=GRAPH_CONFIG)])


def page(spaces: Mapping[str, Loaded], initial=None, initial_key: Optional[str] = None) -> html.Div:
    """The whole page, showing the first space's default view (``initial``: its scatter figure);
    per-space parts are filled by callbacks."""
    first = next(t for t in spaces.values() if isinstance(t, SpaceTable))
    d = first.defaults
    cols = column_options(first)
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="selected"), dcc.Store(id="filters"), dcc.Store(id="replay"), dcc.Store(id="url-cell"),
        dcc.Store(id="scatter-ready"),
        dcc.Store(id="scatter-key", data=initial_key),
        dcc.Interval(id="replay-timer", interval=300, disabled=True),
        html.Header([
            html.H1("nwot explore"),
            html.Label("space", htmlFor="space"),
            dcc.Dropdown(id="space", options=space_options(spaces), value=first.name, clearable=False,
                         className="space-dd"),
            html.A("link to this view", id="view-link", href="?"),
        ], className="top"),
        html.Div(id="notices", className="notices"),
        html.Div([
            html.Aside([html.H2("Filters"), html.Div(id="count", className="count"),
                        html.Button("reset filters", id="reset-filters", n_clicks=0),
                        html.Div([filter_panel(t) for t in spaces.values() if isinstance(t, SpaceTable)],
                                 id="filter-panel")], className="panel filters"),
            html.Section([
                html.Div([
                    html.Div([html.Label("x"), dcc.Dropdown(id="x", options=cols, value=d["x"], clearable=False)],
                             className="axis"),
                    html.Div([html.Label("y"), dcc.Dropdown(id="y", options=cols, value=d["y"], clearable=False)],
                             className="axis"),
                    html.Div([html.Label("colour"), dcc.Dropdown(id="color", options=cols, value=d["color"],
                                                                 clearable=True)], className="axis"),
                    dcc.Checklist(id="log", options=[{"label": " log x", "value": "x"},
                                                     {"label": " log y", "value": "y"}],
                                  value=[], inline=True, className="log")], className="axes"),
                dcc.Graph(id="scatter", figure=initial or {}, config=GRAPH_CONFIG, className="scatter")],
                className="panel centre"),
            html.Aside([
                html.H2("Cell inspector"),
                html.Div([dcc.Input(id="goto", type="text", placeholder="index or arch string, Enter", debounce=True,
                                    className="goto"), html.Div(id="goto-message", className="message")]),
                html.Div(id="inspector", children=html.P("Click a point to inspect its cell.")),
                html.Div(id="curves-message", className="message"),
                dcc.Graph(id="curves", config=GRAPH_CONFIG, style={"display": "none"})], className="panel inspector"),
        ], className="main"),
        dcc.Tabs(id="tabs", value="pareto", children=[
            dcc.Tab(label="Pareto front", value="pareto", children=html.Div([
                html.Div([html.Label("accuracy"), dcc.Dropdown(id="pareto-acc", clearable=False, className="wide-dd"),
                          html.Label("cost"), dcc.Dropdown(id="pareto-cost", clearable=False, className="wide-dd"),
                          dcc.Checklist(id="pareto-log", options=[{"label": " log cost", "value": "x"}], value=["x"],
                                        inline=True)], className="row-controls"),
                dcc.Graph(id="pareto", config=GRAPH_CONFIG)])),
            dcc.Tab(label="Search replay", value="replay", children=replay_panel()),
            dcc.Tab(label="Proxy correlations", value="corr", children=html.Div([
                html.Div([dcc.Checklist(id="corr-cols", options=[], value=[], inline=True),
                          dcc.RadioItems(id="corr-method", options=[{"label": " Kendall τ", "value": "kendall"},
                                                                    {"label": " Spearman ρ", "value": "spearman"}],
                                         value="kendall", inline=True)], className="row-controls"),
                html.Div(id="corr-message", className="message"),
                dcc.Graph(id="corr", config=GRAPH_CONFIG)])),
        ], className="tabs", parent_className="tabs-parent"),
        html.Footer("nwot explore · served from this machine, no network needed · no authentication: keep it on "
                    "127.0.0.1"),
    ], className="app")


def metric_rows(table: SpaceTable, index: int) -> List:
    """Inspector table rows: every numeric column of the cell, grouped by role."""
    rows: List = []
    for role in ROLES:
        cols = table.columns(role)
        if not cols:
            continue
        rows.append(html.Tr(html.Th(role, colSpan=2, className="role")))
        for c in cols:
            v = table.frame.at[index, c]
            rows.append(html.Tr([html.Td(c), html.Td(format_value(v, role), className="num")]))
    return rows


def format_value(v, role: str) -> str:
    if v is None or v != v:
        return "—"
    if v == float("-inf"):
        return "-inf (singular)"
    return f"{v:.2f}" if role == "accuracy" else f"{v:.6g}"


def notice_list(items: List[str], title: str, *, error: bool = False) -> List:
    """A collapsible list (errors: open, in red)."""
    if not items:
        return []
    return [html.Details([html.Summary(f"{title} ({len(items)})"), html.Ul([html.Li(t) for t in items])],
                         open=error, className="error-box" if error else "")]
