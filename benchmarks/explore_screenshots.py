"""Screenshots of every ``nwot explore`` view and the measured time to first render (headless Chromium).

Starts the explorer on a free 127.0.0.1 port (a thread), drives the system Chromium through Playwright
(``nwot.explore.browser``: no browser download, no request leaves the machine; checked) and writes

* ``benchmarks/results/explore_{app,scatter,inspector,filters,pareto,replay,correlations,export}.png``;
* ``benchmarks/results/explore_screenshots.json``: the time to first render of all 15,625 points
  (navigation start -> the scatter's ``plotly_afterplot`` holding every point), ``--runs`` cold loads
  (a fresh browser profile each) and as many warm reloads, with the load average around each, plus the
  command, git commit and machine; and the same for two baselines holding the same initial figure
  (``--baselines``, default on): a bare Dash page with only that ``dcc.Graph``, and a bare HTML page
  that loads plotly.js and calls ``Plotly.newPlot`` (what the stack itself costs, without the app).

Shared data (``$NWOT_SHARED_DATA``) adds the HW-NAS-Bench columns, NATS curves and the NB101 space when
present.

    python benchmarks/explore_screenshots.py            # 5 cold + 5 warm loads
    python benchmarks/explore_screenshots.py --runs 1 --out /tmp/shots
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from nwot.explore.browser import choose, chromium, click_point, external_requests, pattern_id, timed_load  # noqa: E402
from nwot.paths import shared_data_dir  # noqa: E402
from nwot.study.provenance import command_line, git_state, machine  # noqa: E402

RENDERED = "() => window.__nwotRendered && window.__nwotRendered['scatter']"
T = 60_000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=5, help="cold and warm page loads timed (default 5 each)")
    p.add_argument("--no-baselines", dest="baselines", action="store_false",
                   help="skip the bare Dash / bare plotly.js pages timed beside the app")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    return p.parse_args(argv)


def config():
    from nwot.explore.data import ExploreConfig

    sd = shared_data_dir()
    nats = sd / "nats" / "NATS-tss-v1_0-3ffb9-simple"
    return ExploreConfig(nats_dir=str(nats) if nats.is_dir() else None)


def time_first_render(url: str, runs: int, key: str = "scatter"):
    """Per run: cold = a fresh profile's first visit, warm = a reload; each as (wall ms, browser CPU ms), with
    the 1-minute load average when the run started."""
    cold, warm, loads = [], [], []
    for _ in range(runs):
        with chromium() as ctx:
            page = ctx.new_page()
            loads.append(os.getloadavg()[0])
            cold.append(timed_load(ctx, page, url, key=key, timeout=T))
            warm.append(timed_load(ctx, page, url, key=key, timeout=T))
    return cold, warm, loads


def baseline_pages(table, folder: Path):
    """The app's initial scatter figure in (a) a bare Dash app with one ``dcc.Graph`` and (b) a bare HTML page
    loading plotly.js (from the plotly package) and calling ``Plotly.newPlot``: ``[(name, url, stop)]``."""
    import functools
    import http.server
    import shutil
    import threading

    import numpy as np
    import plotly
    from dash import Dash, dcc, html

    from nwot.explore import figures
    from nwot.explore.server import serve_in_thread

    d = table.defaults
    fig = figures.scatter_figure(table, d["x"], d["y"], d["color"], np.ones(table.size, dtype=bool))
    bare = Dash(__name__, serve_locally=True, update_title=None)
    bare.layout = html.Div(dcc.Graph(id="scatter", figure=fig, style={"height": "640px"}))
    dash_url, dash_stop = serve_in_thread(bare)
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", folder)
    (folder / "fig.json").write_text(fig.to_json())
    (folder / "index.html").write_text(
        '<html><head><script src="plotly.min.js"></script></head><body><div id="scatter" style="height:640px">'
        "</div><script>fetch('fig.json').then(r => r.json()).then(f => Plotly.newPlot('scatter', f.data, "
        "f.layout));</script></body></html>")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()

    def plain_stop():
        srv.shutdown()
        srv.server_close()

    return [("bare_dash", dash_url, dash_stop),
            ("bare_plotly_js", f"http://127.0.0.1:{srv.server_address[1]}/index.html", plain_stop)]


def shoot(url: str, out: Path, export_path: Path, seen: list) -> None:
    with chromium(viewport=(1500, 1050)) as ctx:
        page = ctx.new_page()
        page.on("request", lambda r: seen.append(r.url))
        page.goto(url + "?color=cifar10-valid/cost@12")
        page.wait_for_function(RENDERED, timeout=T)
        page.wait_for_timeout(800)
        page.locator(".centre").screenshot(path=str(out / "explore_scatter.png"))

        click_point(page, "#scatter", 6111)
        page.wait_for_selector("#inspector-headline-value", timeout=T)
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / "explore_app.png"), full_page=True)
        page.fill("#goto", "11")  # a cell with a NATS record: its training curves
        page.press("#goto", "Enter")
        page.wait_for_function("() => document.getElementById('inspector-index').textContent === 'cell 11'", timeout=T)
        page.wait_for_timeout(1500)
        page.locator(".inspector").screenshot(path=str(out / "explore_inspector.png"))

        page.locator(f"[id='{pattern_id(type='f-edge', space='nb201', edge='0-1')}']").click()
        page.locator(".dash-dropdown-content[data-state=open] label[role=option]",
                     has=page.locator('input[value="nor_conv_3x3"]')).click()
        page.locator(f"[id='{pattern_id(type='f-haspath', space='nb201')}'] input").check()
        page.wait_for_function("() => document.getElementById('count').textContent.includes('input->output path')",
                               timeout=T)
        page.wait_for_timeout(1200)
        page.locator(".main").screenshot(path=str(out / "explore_filters.png"))
        page.click("#reset-filters")
        page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot').layout.meta.n === 15625",
                               timeout=T)

        click_point(page, "#scatter", 6111)
        if "cifar10/edgegpu_latency" in page.inner_text("#inspector-metrics"):
            choose(page, "pareto-cost", "cifar10/edgegpu_latency")
        page.wait_for_function("() => { const g = document.querySelector('#pareto .js-plotly-plot'); return g && "
                               "g.layout.title && g.layout.title.text.includes('cell 6111'); }", timeout=T)
        page.wait_for_timeout(1200)
        page.locator(".tabs-parent").screenshot(path=str(out / "explore_pareto.png"))

        page.click("text=Search replay")
        choose(page, "replay-strategy", "area")
        page.click("#replay-run")
        page.wait_for_selector("#replay-done", timeout=T)
        page.wait_for_timeout(1500)
        page.locator(".tabs-parent").screenshot(path=str(out / "explore_replay.png"))
        page.locator(".centre").screenshot(path=str(out / "explore_replay_scatter.png"))

        if "NAS-Bench-101" in " ".join(page.locator("#space").all_inner_texts()) or True:
            choose(page, "space", "nb101")
            page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot').layout.meta.n === 500",
                                   timeout=T)
        page.click("text=Proxy correlations")
        page.wait_for_function("() => { const g = document.querySelector('#corr .js-plotly-plot'); return g && "
                               "g._fullData.length && g._fullData[0].type === 'heatmap'; }", timeout=T)
        page.wait_for_timeout(1000)
        page.locator(".tabs-parent").screenshot(path=str(out / "explore_correlations.png"))

        page2 = ctx.new_page()
        page2.on("request", lambda r: seen.append(r.url))
        page2.goto(export_path.as_uri())
        page2.wait_for_function(RENDERED, timeout=T)
        click_point(page2, "#scatter", 6111)
        page2.wait_for_selector("#inspector-headline-value", timeout=T)
        page2.wait_for_timeout(1000)
        page2.screenshot(path=str(out / "explore_export.png"))


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from nwot.explore.app import create_app
    from nwot.explore.data import load_spaces
    from nwot.explore.export import write_export
    from nwot.explore.server import serve_in_thread

    cfg = config()
    spaces = load_spaces(cfg)
    url, stop = serve_in_thread(create_app(spaces, cfg))
    seen: list = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            export_path, export_bytes = write_export(spaces["nb201"], Path(tmp) / "report.html", cfg)
            shoot(url, out, export_path, seen)
        cold, warm, loads = time_first_render(url, args.runs)
        baselines = {}
        if args.baselines:
            with tempfile.TemporaryDirectory() as tmp:
                pages = baseline_pages(spaces["nb201"], Path(tmp))
                try:
                    for name, burl, _ in pages:
                        bc, bw, bl = time_first_render(burl, args.runs)
                        baselines[name] = {"cold_wall": [c[0] for c in bc], "warm_wall": [w[0] for w in bw],
                                           "cold_wall_median": statistics.median(c[0] for c in bc),
                                           "warm_wall_median": statistics.median(w[0] for w in bw),
                                           "load_average_1min_at_each_run": bl}
                finally:
                    for _, _, bstop in pages:
                        bstop()
    finally:
        stop()
    leaving = external_requests([u for u in seen if not u.startswith("file:")])
    if leaving:
        raise SystemExit(f"requests left this machine: {leaving[:5]}")
    med = statistics.median
    rec = {"command": command_line(__file__, argv), "git": git_state(), "machine": machine(),
           "load_average_1min_at_each_run": loads, "points": 15_625, "runs": args.runs,
           "first_render_ms": {"cold_wall": [c[0] for c in cold], "warm_wall": [w[0] for w in warm],
                               "cold_browser_cpu": [c[1] for c in cold], "warm_browser_cpu": [w[1] for w in warm],
                               "cold_wall_median": med(c[0] for c in cold), "warm_wall_median": med(w[0] for w in warm),
                               "cold_browser_cpu_median": med(c[1] for c in cold),
                               "warm_browser_cpu_median": med(w[1] for w in warm)},
           "definition": "wall: navigation start -> plotly_afterplot of the scatter holding all points (RENDER_HOOK "
                         "in nwot/explore/browser.py); browser_cpu: user + system CPU time of every Chromium process "
                         "(browser, renderer, GPU process drawing WebGL in software) over the same load, from /proc; "
                         "cold = first "
                         "visit of a fresh Chromium profile, warm = reload",
           "browser": "Debian chromium, headless, --disable-gpu (WebGL in software)",
           "baselines": baselines,
           "baselines_definition": "the app's initial scatter figure alone: bare_dash = a Dash app with one "
                                   "dcc.Graph; bare_plotly_js = an HTML page loading plotly.js and calling "
                                   "Plotly.newPlot; timed like the app, in the same run",
           "export_bytes": export_bytes, "requests_outside_127.0.0.1": 0, "config": cfg.__dict__,
           "written": time.strftime("%Y-%m-%dT%H:%M:%S")}
    (out / "explore_screenshots.json").write_text(json.dumps(rec, indent=2) + "\n")
    fr = rec["first_render_ms"]
    print(f"first render (15,625 points), median of {args.runs}: cold {fr['cold_wall_median']:.0f} ms wall / "
          f"{fr['cold_browser_cpu_median']:.0f} ms browser CPU, warm {fr['warm_wall_median']:.0f} ms wall / "
          f"{fr['warm_browser_cpu_median']:.0f} ms browser CPU (load average {statistics.mean(loads):.1f}); "
          f"screenshots in {out}")
    for name, b in baselines.items():
        print(f"  baseline {name}: cold {b['cold_wall_median']:.0f} ms wall, warm {b['warm_wall_median']:.0f} ms wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
