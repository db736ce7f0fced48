"""``nwot explore --export report.html``: one self-contained HTML file that works without a server.

The file holds plotly.js (the explorer's small bundle, :mod:`nwot.explore.bundle`), the space's table and a small
script (``static/export.js``) for what the server app does in Python: filters, the scatter with
Kendall tau-b (Knight's O(n log n) algorithm, as scipy) and Spearman rho of the visible cells, the cell
inspector (NB201 DAG from the same SVG template as :mod:`nwot.explore.dag`), the Pareto front of the
visible cells, and the proxy correlation matrix (computed here over all cells). Numbers travel as
base64 float64 arrays, so the file's values are the table's, bit for bit. A search replay needs Python
and is left out.
"""
from __future__ import annotations

import base64
import datetime as _dt
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from nwot.explore.dag import OP_STYLE, nb101_svg, nb201_template
from nwot.explore.data import ARCH, EDGE_PREFIX, HAS_PATH, ISO_SIZE, OPS_PREFIX, UNIQUE, ExploreConfig, SpaceTable

STATIC = Path(__file__).resolve().parent / "static"
#: At most this many NATS records are embedded (a full archive has 15,625: too big for one file).
MAX_CURVE_RECORDS = 200
_RECORD = re.compile(r"^(\d{6})\.pickle(\.pbz2)?$")


def _b64(a: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=dtype).tobytes()).decode("ascii")


def nats_record_indices(nats_dir) -> list:
    """Indices whose record file the NATS archive folder holds (``000011.pickle.pbz2`` -> 11)."""
    p = Path(nats_dir)
    return sorted(int(m.group(1)) for f in p.iterdir() if (m := _RECORD.match(f.name))) if p.is_dir() else []


def export_data(table: SpaceTable, cfg: ExploreConfig = ExploreConfig()) -> Dict[str, Any]:
    """The JSON object the page reads (see the module docstring)."""
    from nwot.explore import figures
    from nwot.explore.curves import nats_curves

    f = table.frame
    data: Dict[str, Any] = {
        "space": table.name, "title": table.title, "size": table.size, "cell_kind": table.cell_kind,
        "index": _b64(f.index.to_numpy(), "<i4"), "columns": list(table.roles), "roles": table.roles,
        "values": {c: _b64(f[c].to_numpy(dtype=float), "<f8") for c in table.roles}, "defaults": table.defaults,
        "has_path": _b64(f[HAS_PATH].to_numpy(dtype=bool), "u1"), "ops": list(table.ops), "edges": list(table.edges),
        "op_counts": {op: _b64(f[OPS_PREFIX + op].to_numpy(), "u1") for op in table.ops},
        "op_style": {k: list(v) for k, v in OP_STYLE.items()}, "notices": list(table.errors + table.notices)}
    classes, codes = np.unique(f[UNIQUE].astype(str).to_numpy(), return_inverse=True)
    data["unique"] = {"classes": classes.tolist(), "codes": _b64(codes, "<i4")}
    data["iso_size"] = _b64(f[ISO_SIZE].to_numpy(), "<i4")
    if table.cell_kind == "nb201":
        data["edge_ops"] = {e: _b64(f[EDGE_PREFIX + e].map({op: k for k, op in enumerate(table.ops)}).to_numpy(), "u1")
                            for e in table.edges}
        data["svg_template"] = nb201_template()
    else:
        data["arch"] = f[ARCH].astype(str).tolist()
        if table.cell_kind == "nb101":
            data["svgs"] = [nb101_svg(a) for a in f[ARCH]]
    proxies = table.columns("proxy")
    if len(proxies) >= 2:
        corr = figures.correlation_figure(table, proxies[:14], np.ones(table.size, dtype=bool))
        data["corr"] = json.loads(corr.to_json())
    data["curves"] = {}
    if cfg.nats_dir is not None and table.name == "nb201":
        have = nats_record_indices(cfg.nats_dir)
        if len(have) > MAX_CURVE_RECORDS:
            data["notices"].append(f"NATS curves not embedded: {len(have):,} records in {cfg.nats_dir} "
                                   f"(at most {MAX_CURVE_RECORDS} fit in one file)")
            have = []
        for i in have:
            c = nats_curves(str(cfg.nats_dir), i)
            if isinstance(c, str):
                continue
            data["curves"][str(i)] = [{"name": f"{ds} {split}", "epoch": g["epoch"].tolist(),
                                       "accuracy": [round(v, 4) for v in g["accuracy"]]}
                                      for (ds, split), g in c.groupby(["dataset", "split"], sort=False)]
    return data


def render_html(table: SpaceTable, cfg: ExploreConfig = ExploreConfig(), provenance: Optional[dict] = None) -> str:
    """The whole page as a string: inlined CSS, plotly.js (:func:`nwot.explore.bundle.plotly_js`, at the top of
    the body: the small bundle injects its CSS there), data and script; no external reference."""
    import nwot
    from nwot.explore.bundle import plotly_js

    plotly_source, notice = plotly_js()
    if notice:
        print(f"nwot explore --export: {notice}", file=sys.stderr)

    data = export_data(table, cfg)
    data["provenance"] = {"nwot": nwot.__version__, "written": _dt.datetime.now().isoformat(timespec="seconds"),
                          **(provenance or {})}
    payload = json.dumps(data, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
    css = (STATIC / "export.css").read_text(encoding="utf-8")
    js = (STATIC / "export.js").read_text(encoding="utf-8")
    title = f"nwot explore — {table.title}"
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>{title}</title><style>{css}</style>",
        "</head><body>", f"<script>{plotly_source}</script>",
        (STATIC / "export_body.html").read_text(encoding="utf-8").replace("__TITLE__", title),
        f'<script type="application/json" id="nwot-data">{payload}</script>',
        f"<script>{js}</script></body></html>"])


def write_export(table: SpaceTable, path: Union[str, Path], cfg: ExploreConfig = ExploreConfig(),
                 provenance: Optional[dict] = None):
    """Write :func:`render_html` to ``path``; returns ``(path, bytes written)``."""
    from nwot.study.provenance import git_state

    p = Path(path).expanduser()
    if p.suffix.lower() not in (".html", ".htm"):
        from nwot.errors import NwotError

        raise NwotError(f"--export writes one HTML file; give a name ending in .html, got {str(path)!r}")
    prov = {"commit": git_state().get("commit"), **(provenance or {})}
    text = render_html(table, cfg, prov)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p, p.stat().st_size
