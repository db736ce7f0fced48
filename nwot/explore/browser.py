"""Headless Chromium for the explorer's browser tests and screenshots (Playwright on the system browser).

Playwright drives the Debian ``chromium`` binary (``executable_path``); it never downloads a browser.
:data:`FLAGS` keep Chromium from calling home (no background networking, component updates, sync or
QUIC), and every run gets a fresh profile. :data:`RENDER_HOOK` records, in the page, when each Plotly
graph first finished drawing a given number of points (``window.__nwotRendered[id]``, milliseconds
since navigation start), which is how the time to first render is measured.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")

#: Polls for Plotly graphs and hooks ``plotly_afterplot`` on each; records the first time the graph
#: holds >= ``window.__nwotWant`` points in its first two traces.
RENDER_HOOK = """
window.__nwotRendered = {}; window.__nwotWant = window.__nwotWant || 15625;
(function poll() {
  document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
    if (gd.__nwotHooked || !gd.on) return;
    gd.__nwotHooked = true;
    var check = function () {
      var key = (gd.closest('[id]') || gd).id || 'graph';
      if (window.__nwotRendered[key]) return;
      var n = 0;
      (gd._fullData || []).forEach(function (t) { if (t.index < 3 && t.x) n += t.x.length; });
      if (n >= window.__nwotWant) window.__nwotRendered[key] = performance.now();
    };
    gd.on('plotly_afterplot', check); check();
  });
  setTimeout(poll, 5);
})();
"""


def find_chromium() -> Optional[str]:
    """Path of the system Chromium (``$NWOT_CHROMIUM`` first), or None."""
    env = os.environ.get("NWOT_CHROMIUM")
    for p in ([env] if env else []) + list(CANDIDATES) + [shutil.which("chromium") or ""]:
        if p and Path(p).is_file() and os.access(p, os.X_OK):
            return p
    return None


def missing_reason() -> Optional[str]:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    if find_chromium() is None:
        return "no system Chromium (apt-get install chromium chromium-driver)"
    return None


@contextlib.contextmanager
def chromium(viewport=(1500, 1000)) -> Iterator[object]:
    """A fresh headless Chromium context (Playwright ``BrowserContext``); closed and its profile removed on exit."""
    from playwright.sync_api import sync_playwright

    exe = find_chromium()
    if exe is None:
        raise RuntimeError(missing_reason())
    profile = tempfile.mkdtemp(prefix="nwot-chromium-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=exe, headless=True, args=list(FLAGS),
                viewport={"width": viewport[0], "height": viewport[1]})
            ctx.add_init_script(RENDER_HOOK)
            ctx.nwot_profile = profile  # where browser_cpu_seconds finds this browser's processes
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def browser_cpu_seconds(profile: str) -> float:
    """CPU seconds (user + system) used so far by the Chromium started on ``profile`` and every process
    under it (renderer, GPU process drawing WebGL in software, ...), from ``/proc``; 0 where there is no
    ``/proc``. Unlike wall time, it does not grow when other work shares the cores."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0.0
    parent, ticks, root = {}, {}, None
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(d.name)] = int(fields[1])
        ticks[int(d.name)] = int(fields[11]) + int(fields[12])
        if root is None and f"--user-data-dir={profile}".encode() in cmd and b"--type=" not in cmd:
            root = int(d.name)
    if root is None:
        return 0.0
    mine, grew = {root}, True
    while grew:
        new = {p for p, pp in parent.items() if pp in mine} - mine
        grew = bool(new)
        mine |= new
    return sum(ticks[p] for p in mine) / os.sysconf("SC_CLK_TCK")


def timed_load(ctx, page, url: str, key: str = "scatter", timeout: float = 60_000):
    """Load ``url`` in ``page``: ``(wall ms from navigation start to the first render of graph key,
    browser CPU ms over the same load)``."""
    profile = getattr(ctx, "nwot_profile", None)
    before = browser_cpu_seconds(profile) if profile else 0.0
    page.goto(url)
    page.wait_for_function(f"() => window.__nwotRendered && window.__nwotRendered['{key}']", timeout=timeout)
    wall = page.evaluate(f"window.__nwotRendered['{key}']")
    cpu = (browser_cpu_seconds(profile) - before) if profile else float("nan")
    return wall, 1000.0 * cpu


def external_requests(urls: List[str]) -> List[str]:
    """The requests that would leave this machine (anything but 127.0.0.1 / localhost, data: and file:)."""
    local = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "file:", "blob:", "about:")
    return [u for u in urls if not u.startswith(local)]


_POINT_JS = """([sel, idx]) => {
    const root = document.querySelector(sel);
    const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
    const L = gd._fullLayout;
    for (const t of gd._fullData) {
      const cd = t.customdata || [];
      for (let k = 0; k < cd.length; k++) {
        if (Number(cd[k]) === idx) {
          const xa = L.xaxis, ya = L.yaxis, box = gd.getBoundingClientRect();
          return [box.left + xa._offset + xa.l2p(xa.d2l ? xa.d2l(t.x[k]) : t.x[k]),
                  box.top + ya._offset + ya.l2p(ya.d2l ? ya.d2l(t.y[k]) : t.y[k])];
        }
      }
    }
    return null; }"""
_HOVERED_JS = """([sel, idx]) => {
    const root = document.querySelector(sel);
    const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
    const id = p => Number(Array.isArray(p.customdata) ? p.customdata[0] : p.customdata);
    return (gd._hoverdata || []).some(p => id(p) === idx);
  }"""


_ZOOM_JS = """([sel, idx, restore]) => {
    const root = document.querySelector(sel);
    const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
    if (restore) { return Plotly.relayout(gd, {'xaxis.autorange': true, 'yaxis.autorange': true}).then(() => true); }
    const L = gd._fullLayout, xa = L.xaxis, ya = L.yaxis;
    for (const t of gd._fullData) {
      const cd = t.customdata || [];
      for (let k = 0; k < cd.length; k++) {
        if (Number(cd[k]) !== idx) continue;
        // axis ranges are in linear units on linear axes and in log10 units on log axes, like d2l
        const x = xa.d2l(t.x[k]), y = ya.d2l(t.y[k]);
        const dx = (xa.range[1] - xa.range[0]) * 0.004, dy = (ya.range[1] - ya.range[0]) * 0.004;
        return Plotly.relayout(gd, {'xaxis.range': [x - dx, x + dx], 'yaxis.range': [y - dy, y + dy]})
          .then(() => true);
      }
    }
    return false; }"""


def click_point(page, graph_selector: str, index: int, attempts: int = 8, zoom: bool = True) -> None:
    """Click the plotted point whose ``customdata`` is ``index`` in the Plotly graph under ``graph_selector``,
    as a person does when points crowd: zoom in around it (Plotly's own zoom), hover until Plotly reports
    that point, click, zoom back out. The pixel position comes from the graph's own axes."""
    try:
        _hover_click(page, graph_selector, index, attempts, zoom)
    finally:
        if zoom:
            page.evaluate(_ZOOM_JS, [graph_selector, index, True])


def _hover_click(page, graph_selector: str, index: int, attempts: int, zoom: bool) -> None:
    for _ in range(attempts):  # a redraw (new figure from the server) may land at any time: redo each step
        if zoom and not page.evaluate(_ZOOM_JS, [graph_selector, index, False]):
            raise AssertionError(f"index {index} is not plotted in {graph_selector}")
        pos = page.evaluate(_POINT_JS, [graph_selector, index])
        if pos is None:
            raise AssertionError(f"index {index} is not plotted in {graph_selector}")
        page.mouse.move(pos[0] + 6, pos[1] + 6)
        page.mouse.move(pos[0], pos[1], steps=3)
        try:
            page.wait_for_function(_HOVERED_JS, arg=[graph_selector, index], timeout=1500)
        except Exception:  # playwright TimeoutError: the graph moved under the mouse; measure again
            continue
        page.mouse.click(pos[0], pos[1])
        return
    got = page.evaluate("""(sel) => { const root = document.querySelector(sel);
        const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
        return JSON.stringify((gd._hoverdata || []).map(p => [p.data.name, p.customdata])); }""", graph_selector)
    raise AssertionError(f"could not hover index {index} in {graph_selector} after {attempts} attempts "
                         f"(Plotly hovers {got})")


def choose(page, dropdown_id: str, value: str) -> None:
    """Pick ``value`` in the Dash dropdown whose id is ``dropdown_id`` (a pattern id: its JSON) the way a
    person does: open, search, click."""
    page.locator(f"[id='{dropdown_id}']").click()
    content = page.locator(".dash-dropdown-content[data-state=open]")
    content.locator(".dash-dropdown-search-container input").fill(value)
    content.locator("label[role=option]", has=page.locator(f'input[value="{value}"]')).click()
    if page.locator(".dash-dropdown-content[data-state=open]").count():
        page.keyboard.press("Escape")


def plotted_points(page, graph_selector: str, traces=(0, 1, 2)) -> int:
    """Points drawn by the given traces of a Plotly graph."""
    return page.evaluate("""([sel, traces]) => {
        const root = document.querySelector(sel);
        const gd = root.classList.contains('js-plotly-plot') ? root : root.querySelector('.js-plotly-plot');
        return gd._fullData.filter(t => traces.includes(t.index)).reduce((n, t) => n + (t.x ? t.x.length : 0), 0);
    }""", [graph_selector, list(traces)])


def pattern_id(**parts) -> str:
    """The DOM id Dash gives a pattern-matching component id (keys sorted, compact JSON)."""
    import json

    return json.dumps(dict(sorted(parts.items())), separators=(",", ":"))
