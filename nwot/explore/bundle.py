"""The explorer's own plotly.js: only the trace types it draws, so a cold page load compiles 1.5 MB of JS, not 4.8 MB.

``assets/plotly-explore.min.js`` holds plotly.js with ``scatter``, ``scattergl`` and ``heatmap``
(built by ``scripts/build_plotly_bundle.sh``; ``assets/plotly-explore.json`` records its plotly.js version,
size, sha256 and license). Dash serves it from the assets folder as a plain ``<script>``, so
``window.Plotly`` exists before any ``dcc.Graph`` mounts and dcc does not fetch plotly's full bundle. It is
used only where its plotly.js version equals the one the installed plotly package ships (the figures are
written for that version); otherwise the app and the export use plotly's full bundle and say so.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Tuple

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLE = ASSETS / "plotly-explore.min.js"
META = ASSETS / "plotly-explore.json"
#: ``assets_ignore`` pattern that keeps Dash from serving the bundle
IGNORE = r"plotly-explore\.min\.js"


def bundle_problem() -> Optional[str]:
    """Why the explorer's bundle cannot be used here (None when it can)."""
    from plotly.offline import get_plotlyjs_version

    try:
        meta = json.loads(META.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"its description {META} cannot be read ({type(e).__name__})"
    if not BUNDLE.is_file():
        return f"{BUNDLE} is missing"
    want = get_plotlyjs_version()
    if meta.get("plotly.js") != want:
        return (f"it holds plotly.js {meta.get('plotly.js')} and the installed plotly package ships plotly.js {want} "
                f"(rebuild it with `sh scripts/build_plotly_bundle.sh` after setting its version)")
    return None


def fallback_notice() -> Optional[str]:
    """What the app and the export say when they use plotly's full bundle instead (None: the explorer's is used)."""
    problem = bundle_problem()
    return None if problem is None else f"using plotly's full plotly.js (slower first render): {problem}"


def plotly_js() -> Tuple[str, Optional[str]]:
    """``(plotly.js source, notice)``: the explorer's bundle, else plotly's full one with :func:`fallback_notice`."""
    notice = fallback_notice()
    if notice is None:
        return BUNDLE.read_text(encoding="utf-8"), None
    from plotly.offline import get_plotlyjs

    return get_plotlyjs(), notice
