#!/bin/sh
# Build nwot/explore/assets/plotly-explore.min.js: plotly.js with only the trace types `nwot explore` draws
# (scatter, scattergl, heatmap; scripts/plotly_bundle/entry.js), 1.5 MB instead of the full 4.8 MB bundle.
# A cold page load of the explorer spends about 1 s less in the browser (benchmarks/explore_screenshots.py
# times the app against a bare page with each bundle). The plotly.js version must equal the one the
# installed plotly package ships (plotly.offline.get_plotlyjs_version()); the app checks it at start and
# otherwise serves plotly's full bundle with a notice. Needs node and npm (the registry only; built with node 20,
# npm 11); package-lock.json pins every dependency, so a rebuild gives the same bytes (sha256 in plotly-explore.json).
#   sh scripts/build_plotly_bundle.sh
set -e
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
OUT="$REPO/nwot/explore/assets/plotly-explore.min.js"
# a fixed build folder: esbuild-plugin-inline-css names the injected <style> by a hash of the CSS file's
# absolute path, so the path must not change for the bytes to be the same
WORK=/tmp/nwot-plotly-bundle
rm -rf "$WORK" && mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
cp "$HERE/plotly_bundle/package.json" "$HERE/plotly_bundle/package-lock.json" "$HERE/plotly_bundle/entry.js" "$HERE/plotly_bundle/build.js" "$WORK/"
cd "$WORK"
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
npm rebuild esbuild >/dev/null
node build.js "$OUT"
VERSION="$(node -e "console.log(require('plotly.js/package.json').version)")"
python3 - "$OUT" "$VERSION" <<'PY'
import hashlib, json, sys
from pathlib import Path
out, version = Path(sys.argv[1]), sys.argv[2]
meta = {"file": out.name, "plotly.js": version, "traces": ["scatter", "scattergl", "heatmap"],
        "bytes": out.stat().st_size, "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "built_by": "sh scripts/build_plotly_bundle.sh (scripts/plotly_bundle/: entry.js, build.js, package.json)",
        "license": "plotly.js is MIT licensed (Copyright (c) 2021 Plotly, Inc.); its license comments are kept at the end of the file"}
out.with_name("plotly-explore.json").write_text(json.dumps(meta, indent=2) + "\n")
print(f"wrote {out} ({meta['bytes']:,} bytes, plotly.js {version})")
PY
