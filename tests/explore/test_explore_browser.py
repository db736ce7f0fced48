"""nwot explore in a real browser: headless Debian Chromium driven by Playwright (no browser download).

One app server (a thread on a free 127.0.0.1 port) and one fresh browser profile for the module. The
app is given a missing and a corrupt score file on purpose: the page must say so and work on. Every
request the page makes is recorded; none may leave 127.0.0.1. The first test measures the time to
first render of all 15,625 points (navigation start -> the scatter's ``plotly_afterplot`` with every
point), cold (first visit, empty cache) and warm (reload), and prints it.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

pytest.importorskip("dash")
from nwot.explore.browser import (  # noqa: E402
    choose,
    click_point,
    external_requests,
    missing_reason,
    pattern_id,
    plotted_points,
    timed_load,
)

REASON = missing_reason()
if REASON is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {REASON}", pytrace=False)
    pytest.skip(f"browser tests skipped: {REASON}", allow_module_level=True)

from nwot.explore.app import create_app  # noqa: E402
from nwot.explore.bundle import META  # noqa: E402
from nwot.explore.data import ExploreConfig, load_spaces  # noqa: E402
from nwot.explore.select import Filters, apply_filters, rank_correlation  # noqa: E402
from nwot.explore.server import serve_in_thread  # noqa: E402

ACC = "cifar10/ori-test@200"
CLEAN = "naswot_clean_seed0"
TIMEOUT = 60_000  # generous: the 2-core machine is shared
RENDERED = "() => window.__nwotRendered && window.__nwotRendered['scatter']"


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scores")
    corrupt = d / "corrupt_scores.csv.xz"
    corrupt.write_bytes(b"\xfd7zXZ\x00 not really xz")
    return d / "missing_scores.csv", corrupt


@pytest.fixture(scope="module")
def spaces(bad_files):
    return load_spaces(ExploreConfig(scores=tuple(map(str, bad_files))))


@pytest.fixture(scope="module")
def server(spaces):
    url, stop = serve_in_thread(create_app(spaces))
    yield url
    stop()


@pytest.fixture(scope="module")
def browser():
    from nwot.explore.browser import chromium

    with chromium() as ctx:
        yield ctx


@pytest.fixture(scope="module")
def requests_seen():
    return []


@pytest.fixture()
def page(browser, requests_seen):
    p = browser.new_page()
    p.on("request", lambda r: requests_seen.append(r.url))
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    p.close()
    assert not errors, errors


def _open(page, url):
    page.goto(url)
    page.wait_for_function(RENDERED, timeout=TIMEOUT)


def _meta(page):
    return page.evaluate("document.querySelector('#scatter .js-plotly-plot').layout.meta")


def test_first_render_of_all_points_offline(browser, page, server, spaces, requests_seen, capsys):
    # cold: first visit of a fresh profile; warm: reload with the browser's cache. (wall ms, browser CPU ms)
    timings = [timed_load(browser, page, server, timeout=TIMEOUT) for _ in range(2)]
    assert plotted_points(page, "#scatter") == 15_625
    nb = spaces["nb201"]
    tau, rho, n = rank_correlation(nb.frame[CLEAN], nb.frame[ACC])
    meta = _meta(page)
    assert (meta["x"], meta["y"], meta["n"]) == (CLEAN, ACC, 15_625) and meta["tau"] == pytest.approx(tau)
    assert "Kendall τ = 0.612" in page.inner_text("#scatter")
    assert page.inner_text("#count-value") == "15,625"
    assert external_requests(requests_seen) == []
    # plotly.js came from this server: the explorer's small bundle, not plotly's full one as well
    assert any("/assets/plotly-explore.min.js" in u for u in requests_seen)
    assert not any(u.split("?")[0].endswith("/plotly.min.js") for u in requests_seen)
    assert page.evaluate("Plotly.version") == json.loads(META.read_text())["plotly.js"]
    with capsys.disabled():
        print(f"\n[explore] time to first render, 15,625 points: cold {timings[0][0]:.0f} ms wall "
              f"({timings[0][1]:.0f} ms browser CPU), warm {timings[1][0]:.0f} ms wall ({timings[1][1]:.0f} ms browser "
              f"CPU), load average {os.getloadavg()[0]:.1f}")


def test_select_an_axis(page, server, spaces):
    _open(page, server)
    choose(page, "y", "cifar100/x-test@200")
    page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot').layout.meta.y === "
                           "'cifar100/x-test@200'", timeout=TIMEOUT)
    nb = spaces["nb201"]
    tau, rho, n = rank_correlation(nb.frame[CLEAN], nb.frame["cifar100/x-test@200"])
    meta = _meta(page)
    assert meta["tau"] == pytest.approx(tau) and meta["rho"] == pytest.approx(rho)
    assert page.evaluate("document.querySelector('#scatter .js-plotly-plot').layout.yaxis.title.text") == \
        "cifar100/x-test@200"
    assert "y=cifar100%2Fx-test%40200" in page.get_attribute("#view-link", "href")


def test_click_6111_shows_94_37_on_cifar10(page, server, spaces):
    _open(page, server)
    click_point(page, "#scatter", 6111)
    page.wait_for_selector("#inspector-headline-value", timeout=TIMEOUT)
    assert page.inner_text("#inspector-index") == "cell 6111"
    assert page.inner_text("#inspector-headline") == f"{ACC}: 94.37"
    assert page.inner_text("#inspector-arch") == spaces["nb201"].frame.at[6111, "cell/arch"]
    assert page.get_attribute("#inspector-dag", "src").startswith("data:image/svg+xml;base64,")
    assert "94.37" in page.inner_text("#inspector-metrics")
    # linked: the Pareto view places the selected cell (6111 is on the accuracy / params front)
    page.wait_for_function("() => { const g = document.querySelector('#pareto .js-plotly-plot'); return g && "
                           "g.layout.title && g.layout.title.text.includes('cell 6111 is on the front'); }",
                           timeout=TIMEOUT)


def test_filters_update_counts_and_scatter(page, server, spaces):
    _open(page, server)
    page.locator(f"[id='{pattern_id(type='f-edge', space='nb201', edge='0-1')}']").click()
    page.locator(".dash-dropdown-content[data-state=open] label[role=option]",
                 has=page.locator('input[value="none"]')).click()
    page.wait_for_function("() => document.getElementById('count-value').textContent === '3,125'", timeout=TIMEOUT)
    page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot').layout.meta.n === 3125",
                           timeout=TIMEOUT)
    assert plotted_points(page, "#scatter") == 3_125
    page.locator(f"[id='{pattern_id(type='f-haspath', space='nb201')}'] input").check()
    want = int(apply_filters(spaces["nb201"], Filters(edges=(("0-1", "none"),), has_path=True)).sum())
    page.wait_for_function(f"() => document.getElementById('count-value').textContent === '{want:,}'",
                           timeout=TIMEOUT)
    assert want < 3_125 and "edge 0-1 = none; has an input->output path" in page.inner_text("#count")
    page.click("#reset-filters")
    page.wait_for_function("() => document.getElementById('count-value').textContent === '15,625'", timeout=TIMEOUT)


def test_replay_draws_a_trace_and_marks_the_scatter(page, server):
    from nwot.search.run import run_strategy

    _open(page, server)
    page.click("text=Search replay")
    page.click("#replay-run")
    page.wait_for_selector("#replay-done", timeout=TIMEOUT)
    ref = run_strategy("rea", space="nb201", dataset="cifar10", budget_seconds=12_000, runs=1, seed=0)[0]
    page.wait_for_function("() => { const g = document.querySelector('#replay-graph .js-plotly-plot'); return g && "
                           "g._fullData.some(t => t.name === 'best so far'); }", timeout=TIMEOUT)
    best_y = page.evaluate("() => { const t = document.querySelector('#replay-graph .js-plotly-plot')._fullData"
                           ".find(t => t.name === 'best so far'); return t.y[t.y.length - 1]; }")
    assert best_y == pytest.approx(ref.final["test_accuracy"])
    page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot')._fullData"
                           ".some(t => t.name === 'replay: evaluated' && t.x.length > 0)", timeout=TIMEOUT)
    n_marked = page.evaluate("() => document.querySelector('#scatter .js-plotly-plot')._fullData"
                             ".find(t => t.name === 'replay: evaluated').x.length")
    assert n_marked == len({r.arch for r in ref.trace})
    # play: the replay restarts from its first step (fewer cells marked) and runs
    page.click("#replay-play")
    page.wait_for_function(f"() => document.querySelector('#scatter .js-plotly-plot')._fullData"
                           f".find(t => t.name === 'replay: evaluated').x.length < {n_marked}", timeout=TIMEOUT)
    assert "pause" in page.inner_text("#replay-play")


def test_bad_inputs_are_reported_and_the_rest_works(page, server, spaces, bad_files):
    """A missing and a corrupt score file (given at startup) and an unknown column in the URL: each gets a
    message naming it; the page falls back and works (all points, the cell from the URL inspected)."""
    page.goto(server + "?x=no_such_column&cell=6111")
    page.wait_for_function(RENDERED, timeout=TIMEOUT)
    page.wait_for_selector("#inspector-headline-value", timeout=TIMEOUT)
    text = page.inner_text("#notices")
    missing, corrupt = bad_files
    assert f"score file not found: {missing}" in text
    assert f"score file {corrupt} is not a readable CSV" in text
    assert "unknown column 'no_such_column' for x" in text
    assert _meta(page)["x"] == spaces["nb201"].defaults["x"]
    assert plotted_points(page, "#scatter") == 15_625
    assert page.inner_text("#inspector-headline-value") == "94.37"


@pytest.mark.real_data
def test_space_is_chosen_in_the_ui(page, server, spaces, shared_data):
    nb101 = spaces["nb101"]
    _open(page, server)
    choose(page, "space", "nb101")
    page.wait_for_function("() => document.querySelector('#scatter .js-plotly-plot').layout.meta.n === 500",
                           timeout=TIMEOUT)
    assert page.inner_text("#count-value") == "500"
    assert _meta(page)["y"] == nb101.defaults["y"] == "cifar10/x-valid@108"
    assert not page.locator(f"[id='{pattern_id(type='f-edge', space='nb201', edge='0-1')}']").is_visible()
    click_point(page, "#scatter", 0)
    page.wait_for_selector("#inspector-headline-value", timeout=TIMEOUT)
    assert page.inner_text("#inspector-headline-value") == "92.58"  # MANIFEST §3: row 0 val_accuracy 92.578125
    assert page.inner_text("#inspector-index") == "cell 0"
    assert page.get_attribute("#inspector-dag", "alt") == nb101.frame.at[0, "cell/arch"]
    page.click("text=Search replay")
    assert "replay needs a benchmark covering the whole space" in page.locator("#replay-graph").inner_text()


def test_static_export_works_without_a_server(browser, spaces, tmp_path, capsys):
    from nwot.explore.export import write_export

    path, size = write_export(spaces["nb201"], tmp_path / "report.html")
    page = browser.new_page()
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    t0 = time.time()
    page.goto(path.as_uri())
    page.wait_for_function("() => window.__nwotRendered && window.__nwotRendered['scatter']", timeout=TIMEOUT)
    wall = time.time() - t0
    nb = spaces["nb201"]
    tau, rho, n = rank_correlation(nb.frame[CLEAN], nb.frame[ACC])
    meta = page.evaluate("document.getElementById('scatter').layout.meta")
    assert meta["n"] == 15_625 and meta["tau"] == pytest.approx(tau, abs=1e-12)
    assert meta["rho"] == pytest.approx(rho, abs=1e-12)
    click_point(page, "#scatter", 6111)
    page.wait_for_selector("#inspector-headline-value", timeout=TIMEOUT)
    assert page.inner_text("#inspector-headline-value") == "94.37"
    assert page.inner_text("#inspector-arch") == nb.frame.at[6111, "cell/arch"]
    page.select_option("#f-edge-0-1", "none")
    assert page.inner_text("#count-value") == "3,125"
    assert page.evaluate("document.getElementById('scatter').layout.meta.n") == 3_125
    # Kendall tau-b of the page's own implementation against scipy on the filtered cells
    m = apply_filters(nb, Filters(edges=(("0-1", "none"),)))
    tau_f = rank_correlation(nb.frame[CLEAN][m], nb.frame[ACC][m])[0]
    assert page.evaluate("document.getElementById('scatter').layout.meta.tau") == pytest.approx(tau_f, abs=1e-12)
    assert [u for u in seen if not u.startswith(("file:", "data:", "blob:"))] == []
    page.close()
    with capsys.disabled():
        print(f"\n[explore] static export {size / 1e6:.1f} MB, rendered from file:// in {wall:.1f} s")
    assert np.isfinite(tau_f)
