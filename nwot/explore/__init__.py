"""``nwot explore``: an interactive, offline explorer of a whole NAS search space.

Linked views over one table per space (:mod:`nwot.explore.data`): a WebGL scatter of any column
against any other coloured by a third, with Kendall tau / Spearman rho of the visible cells; a cell
inspector (the cell as an SVG DAG, arch, index, every metric, isomorphism class and members, NATS
training curves); filters (op counts, edges fixed to an op, has-path, column ranges) that drive the
scatter, the counts, the Pareto front of accuracy vs a chosen cost and the proxy-proxy correlation
matrix; a search replay that runs a registered strategy on the benchmark's simulated time and marks
its picks on the scatter. ``nwot explore --export report.html`` writes the scatter, inspector,
filters and Pareto front into one file that works without a server; :mod:`nwot.explore.notebook`
shows the views inline in Jupyter.

Why Dash + Plotly (Dash 4, plotly.py 7 / plotly.js 3), weighed against Panel (Bokeh / HoloViews):

* **No CDN.** Dash serves every asset from the Python packages by default (``serve_locally=True``:
  React, the Dash renderer, the components and plotly.js come from ``/_dash-component-suites``);
  the browser test records every request and checks that none leaves 127.0.0.1. Panel's server mode
  is local too, but its templates and several extensions load fonts or JS from CDNs unless each is
  configured away.
* **15,625 points, fluid.** Plotly's ``scattergl`` draws them in WebGL; overlays (selected cell,
  replay picks) are patched in place (``dash.Patch``) instead of resending the points.
* **Linked views and Python on demand.** Dash callbacks are the links; a replay is a callback that
  calls the search driver. Bokeh would need the same server callbacks plus a second figure library
  for the heatmap and curves.
* **One-file static export.** The same plotly.js renders the export: ``plotly.offline.get_plotlyjs()``
  inlines it, the table travels as base64 float64 arrays, and ``static/export.js`` (about 400 lines)
  does client-side what the callbacks do (filters, tau-b by Knight's O(n log n) algorithm, Pareto
  front, inspector). Neither Dash nor Panel exports linked, filterable views without a server
  (Panel's ``embed=True`` precomputes widget states, impossible for free-form ranges over 15,625
  cells), so this small script is written here; it draws nothing Plotly does not draw.
* **Jupyter inline.** Plotly figures render in notebooks offline (the ``notebook`` renderer embeds
  plotly.js) and Dash runs the whole app in an output cell (``jupyter_mode="inline"``).
* **Tested in a real browser.** Plotly graphs expose their data and axes in the DOM (``_fullData``,
  ``l2p``), which is how the Playwright tests click index 6111 and read the counts.

Security: the server binds 127.0.0.1; another address needs ``--allow-remote``, which warns that the
app has no authentication (a replay runs Python on the server).
"""
from __future__ import annotations

from nwot.explore.data import ExploreConfig, SpaceTable, Unavailable, load_spaces
from nwot.explore.select import Filters, apply_filters, pareto_front, rank_correlation

__all__ = ["ExploreConfig", "Filters", "SpaceTable", "Unavailable", "apply_filters", "load_spaces", "pareto_front",
           "rank_correlation"]
