"""The explorer's Dash app: linked views over the tables of :mod:`nwot.explore.data`.

Links: the filters (one :class:`~nwot.explore.select.Filters` in the ``filters`` store) drive the
scatter, the counts, the Pareto front and the correlation matrix; a click on any point (scatter,
Pareto, replay) or an isomorphism-class member sets the ``selected`` store, which the inspector, the
scatter star and the Pareto marker follow; a replay's picks up to the slider position are marked on
the scatter. Overlay-only changes patch three traces instead of resending 15,625 points.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Dict, Mapping, Optional

import numpy as np
from dash import ALL, Dash, Input, Output, Patch, State, ctx, html, no_update

from nwot.errors import NwotError
from nwot.explore import bundle, figures
from nwot.explore.data import ExploreConfig, Loaded, SpaceTable, Unavailable, load_spaces
from nwot.explore.layout import column_options, notice_list, page, space_options
from nwot.explore.parts import (
    ReplayCache,
    cell_of,
    count_line,
    curves_view,
    inspector_view,
    replay_marks,
    scatter_key,
    warm_up,
)
from nwot.explore.replay import REPLAY_SPACES, REPLAY_STRATEGIES, ReplaySpec, run_replay
from nwot.explore.select import Filters, apply_filters, op_usage
from nwot.explore.view import ViewState, default_view, view_from_query

ASSETS = bundle.ASSETS
#: Browser-side, once per page: resolves when the scatter has drawn its first figure (or after 3 s), so
#: that the Pareto view is requested only then and the scatter gets the first render to itself.
SCATTER_DRAWN_JS = """
function (fig, ready) {
  if (!fig || ready) { return window.dash_clientside.no_update; }
  return new Promise(function (resolve) {
    var t0 = Date.now();
    (function poll() {
      var gd = document.querySelector('#scatter .js-plotly-plot');
      var drawn = gd && gd._fullData && fig.data && gd._fullData.length === fig.data.length;
      if (drawn || Date.now() - t0 > 3000) {
        requestAnimationFrame(function () { requestAnimationFrame(function () { resolve(Date.now()); }); });
      } else { setTimeout(poll, 20); }
    })();
  });
}
"""
MAX_CORR_COLUMNS = 14


def create_app(spaces: Optional[Mapping[str, Loaded]] = None, cfg: ExploreConfig = ExploreConfig(),
               startup_notices=()) -> Dash:
    """The Dash app over ``spaces`` (default: :func:`load_spaces` of ``cfg``)."""
    spaces = dict(spaces if spaces is not None else load_spaces(cfg))
    tables: Dict[str, SpaceTable] = {k: t for k, t in spaces.items() if isinstance(t, SpaceTable)}
    if not tables:
        raise NwotError("no space has a table to explore: " + "; ".join(
            f"{t.name}: {t.reason}" for t in spaces.values() if isinstance(t, Unavailable)))
    replays = ReplayCache()
    warm_up(next(iter(tables.values())))
    notice = bundle.fallback_notice()  # None: the explorer's small plotly.js is served from the assets
    if notice is not None:
        print(f"nwot explore: {notice}", file=sys.stderr)
        startup_notices = (*startup_notices, notice)
    app = Dash(__name__, assets_folder=str(ASSETS), serve_locally=True, title="nwot explore", update_title=None,
               suppress_callback_exceptions=True, assets_ignore=bundle.IGNORE if notice else "")
    first = next(iter(tables.values()))
    d = first.defaults
    everything = np.ones(first.size, dtype=bool)
    # the default view is in the page itself: the first render waits for no callback
    app.layout = page(spaces, initial=figures.scatter_figure(first, d["x"], d["y"], d["color"], everything),
                      initial_key=scatter_key(first.name, d["x"], d["y"], d["color"], [], None))
    unavailable = [f"{t.title}: {t.reason}" for t in spaces.values() if isinstance(t, Unavailable)]

    def table_of(name) -> Optional[SpaceTable]:
        return tables.get(name)

    def mask_of(store, space) -> Optional[np.ndarray]:
        """Visible cells: the stored filters of ``space``; no store yet = no filter (first render)."""
        if space not in tables:
            return None
        if not store:
            return np.ones(tables[space].size, dtype=bool)
        if store.get("space") != space:
            return None
        return apply_filters(tables[space], Filters.from_dict(store["filters"]))

    # ---- URL and space: options and values of every per-space control ----------------------------
    @app.callback(
        Output("space", "value"), Output("space", "options"), Output("x", "options"), Output("x", "value"),
        Output("y", "options"), Output("y", "value"), Output("color", "options"), Output("color", "value"),
        Output("log", "value"), Output("pareto-acc", "options"), Output("pareto-acc", "value"),
        Output("pareto-cost", "options"), Output("pareto-cost", "value"), Output("corr-cols", "options"),
        Output("corr-cols", "value"), Output("replay-scores", "options"), Output("replay-scores", "value"),
        Output("url-cell", "data"), Output("notices", "children"),
        Input("url", "search"), Input("space", "value"))
    def on_space(search, space):
        props = ctx.triggered_prop_ids
        from_url = not props or "url.search" in props or space is None
        if from_url:
            view, url_notices = view_from_query(spaces, search)
        else:
            view, url_notices = default_view(tables[space]), []
        t = tables[view.space]
        proxies = t.columns("proxy")
        scores = [{"label": Path(src).name, "value": src} for c, src in t.sources.items()
                  if t.roles.get(c) == "proxy" and str(src).endswith((".csv", ".csv.xz", ".csv.gz"))]
        scores = list({o["value"]: o for o in scores}.values())
        logs = [a for a, on in (("x", view.log_x), ("y", view.log_y)) if on]
        notes = (notice_list(list(t.errors), f"{t.title}: inputs that could not be read", error=True)
                 + notice_list(url_notices, "link parameters that fell back to defaults", error=True)
                 + notice_list(list(startup_notices), "startup", error=True)
                 + notice_list(list(t.notices), f"{t.title}: notes on the data")
                 + notice_list(unavailable, "spaces not available"))
        cell = {"space": t.name, "index": view.cell} if view.cell is not None else None
        all_cols = column_options(t)
        return (t.name, space_options(spaces), all_cols, view.x, all_cols, view.y, all_cols, view.color, logs,
                column_options(t, ("accuracy",)), t.defaults["accuracy"], column_options(t, ("cost", "metric")),
                t.defaults["cost"], [{"label": f" {c}", "value": c} for c in proxies], proxies[:MAX_CORR_COLUMNS],
                scores, scores[0]["value"] if scores else None, cell, notes)

    @app.callback(Output({"type": "panel", "space": ALL}, "style"), Input("space", "value"))
    def on_panel(space):
        return [{"display": "block" if i["id"]["space"] == space else "none"} for i in ctx.outputs_list]

    @app.callback(
        Output({"type": "f-op", "space": ALL, "op": ALL}, "value"),
        Output({"type": "f-edge", "space": ALL, "edge": ALL}, "value"),
        Output({"type": "f-haspath", "space": ALL}, "value"),
        Output({"type": "f-rcol", "space": ALL, "slot": ALL}, "value"),
        Output({"type": "f-rlo", "space": ALL, "slot": ALL}, "value"),
        Output({"type": "f-rhi", "space": ALL, "slot": ALL}, "value"),
        Input("reset-filters", "n_clicks"), State("space", "value"), prevent_initial_call=True)
    def on_reset(_, space):
        """Every control of the shown space back to 'no filter'."""
        def reset(k, value):
            return [value(i["id"]) if i["id"]["space"] == space else no_update for i in ctx.outputs_list[k]]
        t = tables[space]
        return (reset(0, lambda i: [0, int(t.frame["cell/ops/" + i["op"]].max())]), reset(1, lambda i: "any"),
                reset(2, lambda i: []), reset(3, lambda i: None), reset(4, lambda i: None), reset(5, lambda i: None))

    # ---- filters -> store, counts --------------------------------------------------------------------
    @app.callback(
        Output("filters", "data"), Output("count", "children"),
        Output({"type": "f-op-usage", "space": ALL, "op": ALL}, "children"),
        Input({"type": "f-op", "space": ALL, "op": ALL}, "value"),
        Input({"type": "f-edge", "space": ALL, "edge": ALL}, "value"),
        Input({"type": "f-haspath", "space": ALL}, "value"),
        Input({"type": "f-rcol", "space": ALL, "slot": ALL}, "value"),
        Input({"type": "f-rlo", "space": ALL, "slot": ALL}, "value"),
        Input({"type": "f-rhi", "space": ALL, "slot": ALL}, "value"), Input("space", "value"),
        State("filters", "data"))
    def on_filters(op_vals, edge_vals, haspath, rcols, rlo, rhi, space, current):
        t = table_of(space)
        usage_out = ctx.outputs_list[2]
        if t is None:
            return no_update, no_update, [no_update] * len(usage_out)

        def mine(k, vals):
            return [(i["id"], v) for i, v in zip(ctx.inputs_list[k], vals) if i["id"]["space"] == space]
        f = Filters(
            op_counts=tuple((i["op"], int(v[0]), int(v[1])) for i, v in mine(0, op_vals)
                            if v and (v[0] > 0 or v[1] < int(t.frame["cell/ops/" + i["op"]].max()))),
            edges=tuple((i["edge"], v) for i, v in mine(1, edge_vals) if v and v != "any"),
            has_path=any(bool(v) for _, v in mine(2, haspath)),
            ranges=tuple((c, lo, hi) for (_, c), (_, lo), (_, hi) in zip(mine(3, rcols), mine(4, rlo), mine(5, rhi))
                         if c and (lo is not None or hi is not None) and c in t.roles))
        mask = apply_filters(t, f)
        use = op_usage(t, mask)
        usage = [f"in {use[i['id']['op']]:,} cells" if i["id"]["space"] == space else no_update for i in usage_out]
        data = {"space": t.name, "filters": f.to_dict()}
        unchanged = data == current or (current is None and f == Filters())  # the views already show it
        return no_update if unchanged else data, count_line(t, mask, f), usage

    # ---- scatter ----------------------------------------------------------------------------------------
    @app.callback(
        Output("scatter", "figure"), Output("scatter-key", "data"),
        Input("x", "value"), Input("y", "value"), Input("color", "value"), Input("log", "value"),
        Input("filters", "data"), Input("selected", "data"), Input("replay", "data"), Input("replay-pos", "value"),
        State("space", "value"), State("scatter-key", "data"))
    def on_scatter(x, y, color, log, store, selected, replay, pos, space, shown):
        t = table_of(space)
        mask = mask_of(store, space)
        if t is None or mask is None or x not in t.roles or y not in t.roles or (color and color not in t.roles):
            return no_update, no_update
        log = log or []
        sel = selected["index"] if selected and selected.get("space") == space else None
        picked, best = replay_marks(replays, replay, pos, space)
        key = scatter_key(space, x, y, color, log, store)
        if key == shown:  # the figure on the page already shows these cells: move the markers only
            patch = Patch()
            for k, tr in enumerate(figures.overlay_traces(t, x, y, "x" in log, "y" in log, picked, best, sel)):
                patch["data"][figures.OVERLAY_START + k] = tr.to_plotly_json()
            return patch, no_update
        return figures.scatter_figure(t, x, y, color, mask, log_x="x" in log, log_y="y" in log, selected=sel,
                                      picked=picked, best=best), key

    # the scatter's figure never travels back to the server: a browser-side callback only stamps it
    app.clientside_callback(SCATTER_DRAWN_JS, Output("scatter-ready", "data"), Input("scatter", "figure"),
                            State("scatter-ready", "data"))

    # ---- selection -------------------------------------------------------------------------------------
    @app.callback(
        Output("selected", "data"), Output("goto-message", "children"),
        Input("url-cell", "data"), Input("space", "value"), Input("scatter", "clickData"),
        Input("pareto", "clickData"), Input("replay-graph", "clickData"),
        Input({"type": "member", "index": ALL}, "n_clicks"), Input("goto", "value"), State("selected", "data"))
    def on_select(url_cell, space, c1, c2, c3, members, goto, current):
        trig = ctx.triggered_id
        props = ctx.triggered_prop_ids
        if "url-cell.data" in props and url_cell and url_cell.get("space") == space:
            return url_cell, ""
        if trig == "space":
            keep = current if current and current.get("space") == space else None
            return keep, ""
        if trig in ("scatter", "pareto", "replay-graph"):
            click = {"scatter": c1, "pareto": c2, "replay-graph": c3}[trig]
            try:
                idx = click["points"][0]["customdata"]
            except (TypeError, KeyError, IndexError):
                return no_update, ""
            idx = idx[0] if isinstance(idx, list) else idx
            return {"space": space, "index": int(idx)}, ""
        if isinstance(trig, dict) and trig.get("type") == "member":
            if not ctx.triggered[0].get("value"):
                return no_update, no_update
            return {"space": space, "index": int(trig["index"])}, ""
        if trig == "goto" and goto:
            try:
                return {"space": space, "index": cell_of(tables[space], goto)}, ""
            except NwotError as e:
                return no_update, str(e)
        return no_update, no_update

    # ---- inspector -------------------------------------------------------------------------------------
    @app.callback(Output("inspector", "children"), Output("curves", "figure"), Output("curves", "style"),
                  Output("curves-message", "children"), Input("selected", "data"), State("space", "value"))
    def on_inspect(selected, space):
        t = table_of(space)
        if t is None or not selected or selected.get("space") != space:
            return html.P("Click a point to inspect its cell."), no_update, {"display": "none"}, ""
        i = int(selected["index"])
        return (inspector_view(t, i), *curves_view(cfg, t, i))

    # ---- Pareto ----------------------------------------------------------------------------------------------
    @app.callback(Output("pareto", "figure"), Input("pareto-acc", "value"), Input("pareto-cost", "value"),
                  Input("pareto-log", "value"), Input("filters", "data"), Input("selected", "data"),
                  Input("tabs", "value"), Input("scatter-ready", "data"), State("space", "value"))
    def on_pareto(acc, cost, log, store, selected, tab, ready, space):
        """Drawn when its tab shows, after the scatter (which gets the first render)."""
        t = table_of(space)
        if tab != "pareto" or not ready:
            return no_update
        mask = mask_of(store, space)
        if t is None or mask is None or acc not in t.roles or cost not in t.roles:
            return no_update
        sel = selected["index"] if selected and selected.get("space") == space else None
        return figures.pareto_figure(t, acc, cost, mask, selected=sel, log_x="x" in (log or []))

    # ---- correlation matrix ---------------------------------------------------------------------------
    @app.callback(Output("corr", "figure"), Output("corr-message", "children"), Input("corr-cols", "value"),
                  Input("corr-method", "value"), Input("filters", "data"), Input("tabs", "value"),
                  State("space", "value"))
    def on_corr(cols, method, store, tab, space):
        t = table_of(space)
        if tab != "corr":
            return no_update, no_update
        mask = mask_of(store, space)
        if t is None or mask is None:
            return no_update, no_update
        cols = [c for c in (cols or []) if c in t.roles]
        if len(t.columns("proxy")) < 2:
            msg = (f"{t.title} has {len(t.columns('proxy'))} proxy score column(s); the matrix appears once two or "
                   "more are stored (add score files with --scores)")
            return figures.message_figure(msg), msg
        if len(cols) < 2:
            return figures.message_figure("choose two or more proxies"), "choose two or more proxies"
        return figures.correlation_figure(t, cols, mask, method), ""

    # ---- search replay ---------------------------------------------------------------------------------
    @app.callback(Output("replay", "data"), Output("replay-message", "children"), Output("replay-pos", "max"),
                  Output("replay-pos", "value"), Input("replay-run", "n_clicks"), State("replay-strategy", "value"),
                  State("replay-budget", "value"), State("replay-dataset", "value"), State("replay-seed", "value"),
                  State("replay-scores", "value"), State("space", "value"), prevent_initial_call=True)
    def on_run(_, strategy, budget, dataset, seed, scores, space):
        t = table_of(space)
        try:
            if t is None:
                raise NwotError(f"space {space!r} has no table")
            spec = ReplaySpec(strategy, budget, dataset, int(seed or 0),
                              scores if REPLAY_STRATEGIES.get(strategy) else None)
            trace, summary = run_replay(t, spec)
        except (NwotError, FileNotFoundError) as e:
            return None, html.Span(str(e), className="error"), no_update, no_update
        token = replays.put((trace, summary))
        last = int(trace["step"].max()) if len(trace) else 0
        msg = (f"{summary['strategy']}: {summary['evaluations']} evaluations in {summary['used_time']:,.0f} simulated "
               f"seconds; best cell {summary['best_index']} ({summary['report_column']} = "
               f"{summary['best_accuracy']:.2f}). Drag the slider or press play to replay it; picks are marked on "
               "the scatter.")
        return ({"token": token, "space": t.name, "summary": summary, "last": last}, html.Span(msg, id="replay-done"),
                last, last)

    @app.callback(Output("replay-graph", "figure"), Input("replay", "data"), Input("replay-pos", "value"),
                  Input("space", "value"))
    def on_replay_fig(replay, pos, space):
        hit = replays.get(replay.get("token")) if replay and replay.get("space") == space else None
        if hit is None:
            msg = ("choose a strategy and a budget, then Run replay" if space in REPLAY_SPACES else
                   "search replay needs a benchmark covering the whole space; available for: "
                   + ", ".join(REPLAY_SPACES))
            return figures.message_figure(msg)
        trace, summary = hit
        if ctx.triggered_prop_ids and set(ctx.triggered_prop_ids) == {"replay-pos.value"}:
            patch = Patch()  # scrubbing or playing: move the position line only
            patch["layout"]["shapes"] = [figures.position_line(trace, pos)]
            return patch
        return figures.replay_figure(trace, summary, position=pos)

    @app.callback(Output("replay-timer", "disabled"), Output("replay-play", "children"),
                  Output("replay-pos", "value", allow_duplicate=True),
                  Input("replay-play", "n_clicks"), Input("replay-timer", "n_intervals"),
                  State("replay-timer", "disabled"), State("replay-pos", "value"), State("replay", "data"),
                  prevent_initial_call=True)
    def on_play(_, __, disabled, pos, replay):
        if not replay:
            return True, "▶ play", no_update
        last = int(replay["last"])
        step = max(1, last // 40)  # about 40 frames (12 s) per replay
        if ctx.triggered_id == "replay-play":
            if disabled:  # start (from the beginning when at the end)
                return False, "❚❚ pause", 0 if (pos or 0) >= last else no_update
            return True, "▶ play", no_update
        nxt = min(last, (pos or 0) + step)
        return nxt >= last, ("▶ play" if nxt >= last else "❚❚ pause"), nxt

    # ---- link to this view ---------------------------------------------------------------------------
    @app.callback(Output("view-link", "href"), Input("space", "value"), Input("x", "value"), Input("y", "value"),
                  Input("color", "value"), Input("log", "value"), Input("selected", "data"))
    def on_link(space, x, y, color, log, selected):
        if space not in tables:
            return no_update
        cell = selected["index"] if selected and selected.get("space") == space else None
        return ViewState(space, x, y, color, cell, "x" in (log or []), "y" in (log or [])).to_query()

    return app
