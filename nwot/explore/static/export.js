/* nwot explore, static export: filters, scatter, tau / rho, inspector and Pareto front in the browser.
   Reads the JSON in #nwot-data (written by nwot/explore/export.py); plotly.js is inlined above. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("nwot-data").textContent);
  var N = D.size;

  function decode(b64, Type) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new Type(bytes.buffer);
  }
  var INDEX = decode(D.index, Int32Array);
  var ROW = {};  // benchmark index -> row
  for (var r = 0; r < N; r++) ROW[INDEX[r]] = r;
  var V = {};
  D.columns.forEach(function (c) { V[c] = decode(D.values[c], Float64Array); });
  var HASPATH = decode(D.has_path, Uint8Array);
  var OPC = {};
  D.ops.forEach(function (op) { OPC[op] = decode(D.op_counts[op], Uint8Array); });
  var EDGEOPS = {};
  (D.edges || []).forEach(function (e) { EDGEOPS[e] = decode(D.edge_ops[e], Uint8Array); });
  var CODES = decode(D.unique.codes, Int32Array), ISO = decode(D.iso_size, Int32Array);
  var state = { selected: null, mask: new Uint8Array(N).fill(1) };

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmt(v, role) {
    if (v === null || v === undefined || isNaN(v)) return "—";
    if (v === -Infinity) return "-inf (singular)";
    return role === "accuracy" ? v.toFixed(2) : Number(v.toPrecision(6)).toString();
  }
  function archOf(row) {
    if (D.arch) return D.arch[row];
    var o = D.edges.map(function (e) { return D.ops[EDGEOPS[e][row]]; });
    return "|" + o[0] + "~0|+|" + o[1] + "~0|" + o[2] + "~1|+|" + o[3] + "~0|" + o[4] + "~1|" + o[5] + "~2|";
  }

  /* ---- rank correlations: Kendall tau-b (Knight 1966, O(n log n), as scipy) and Spearman rho ---- */
  function kendallTauB(x, y) {
    var n = x.length, i, k;
    if (n < 2) return NaN;
    var perm = new Array(n);
    for (i = 0; i < n; i++) perm[i] = i;
    perm.sort(function (a, b) { return (x[a] - x[b]) || (y[a] - y[b]) || 0; });
    var n1 = 0, n3 = 0, ties = 1, joint = 1;
    for (i = 1; i <= n; i++) {
      if (i < n && x[perm[i]] === x[perm[i - 1]]) {
        ties++;
        joint = (y[perm[i]] === y[perm[i - 1]]) ? joint + 1 : (n3 += joint * (joint - 1) / 2, 1);
      } else {
        n1 += ties * (ties - 1) / 2; n3 += joint * (joint - 1) / 2; ties = 1; joint = 1;
      }
    }
    var ys = perm.map(function (p) { return y[p]; }), buf = new Array(n), swaps = 0;
    for (var w = 1; w < n; w *= 2) {  // bottom-up merge sort counting exchanges
      for (var lo = 0; lo < n; lo += 2 * w) {
        var mid = Math.min(lo + w, n), hi = Math.min(lo + 2 * w, n), a = lo, b = mid;
        for (k = lo; k < hi; k++) {
          if (a < mid && (b >= hi || ys[a] <= ys[b])) { buf[k] = ys[a++]; }
          else { buf[k] = ys[b++]; swaps += mid - a; }
        }
      }
      var t = ys; ys = buf; buf = t;
    }
    var n2 = 0; ties = 1;
    for (i = 1; i <= n; i++) {
      if (i < n && ys[i] === ys[i - 1]) ties++; else { n2 += ties * (ties - 1) / 2; ties = 1; }
    }
    var n0 = n * (n - 1) / 2, den = Math.sqrt((n0 - n1) * (n0 - n2));
    return den > 0 ? (n0 - n1 - n2 + n3 - 2 * swaps) / den : NaN;
  }
  function ranks(v) {
    var n = v.length, idx = new Array(n), r = new Float64Array(n);
    for (var i = 0; i < n; i++) idx[i] = i;
    idx.sort(function (a, b) { return v[a] - v[b]; });
    for (var s = 0; s < n;) {
      var e = s;
      while (e + 1 < n && v[idx[e + 1]] === v[idx[s]]) e++;
      for (var k = s; k <= e; k++) r[idx[k]] = (s + e) / 2 + 1;
      s = e + 1;
    }
    return r;
  }
  function spearman(x, y) {
    var rx = ranks(x), ry = ranks(y), n = x.length, mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0, i;
    for (i = 0; i < n; i++) { mx += rx[i]; my += ry[i]; }
    mx /= n; my /= n;
    for (i = 0; i < n; i++) {
      sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) * (rx[i] - mx); syy += (ry[i] - my) * (ry[i] - my);
    }
    return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
  }
  window.nwotKendall = kendallTauB;
  window.nwotSpearman = spearman;

  /* ---- controls ---- */
  function options(sel, roles, value, allowNone) {
    sel.innerHTML = "";
    if (allowNone) sel.appendChild(el("option", { value: "" }, "(none)"));
    ["accuracy", "proxy", "cost", "metric"].forEach(function (role) {
      if (roles.indexOf(role) < 0) return;
      D.columns.filter(function (c) { return D.roles[c] === role; }).forEach(function (c) {
        var o = el("option", { value: c }, c + "  ·  " + role);
        if (c === value) o.selected = true;
        sel.appendChild(o);
      });
    });
  }
  var ALL = ["accuracy", "proxy", "cost", "metric"];
  options($("x"), ALL, D.defaults.x); options($("y"), ALL, D.defaults.y); options($("color"), ALL, D.defaults.color, true);
  options($("p-acc"), ["accuracy"], D.defaults.accuracy); options($("p-cost"), ["cost", "metric"], D.defaults.cost);

  var opMax = {};
  D.ops.forEach(function (op) {
    var m = 0; for (var i = 0; i < N; i++) if (OPC[op][i] > m) m = OPC[op][i];
    opMax[op] = m;
    var row = el("div", { "class": "op-row" });
    row.appendChild(el("span", { "class": "op-name" }, "#" + op));
    ["lo", "hi"].forEach(function (side) {
      var s = el("select", { id: "f-op-" + side + "-" + op, "data-op": op });
      for (var k = 0; k <= m; k++) {
        var o = el("option", { value: k }, (side === "lo" ? "≥ " : "≤ ") + k);
        if ((side === "lo" && k === 0) || (side === "hi" && k === m)) o.selected = true;
        s.appendChild(o);
      }
      row.appendChild(s);
    });
    row.appendChild(el("span", { "class": "usage", id: "f-op-usage-" + op }));
    $("f-ops").appendChild(row);
  });
  if (!D.edges.length) $("f-edges-box").style.display = "none";
  if (!D.ops.length) $("f-ops-box").style.display = "none";
  D.edges.forEach(function (e) {
    var row = el("div", { "class": "edge-row" });
    row.appendChild(el("label", { "class": "edge-name" }, "edge " + e));
    var s = el("select", { id: "f-edge-" + e });
    ["any"].concat(D.ops).forEach(function (op) { s.appendChild(el("option", { value: op }, op)); });
    row.appendChild(s);
    $("f-edges").appendChild(row);
  });
  for (var slot = 0; slot < 3; slot++) {
    var row = el("div", { "class": "range-row" });
    var s = el("select", { id: "f-rcol-" + slot }); options(s, ALL, null, true);
    row.appendChild(s);
    row.appendChild(el("input", { id: "f-rlo-" + slot, type: "number", placeholder: "min", step: "any" }));
    row.appendChild(el("input", { id: "f-rhi-" + slot, type: "number", placeholder: "max", step: "any" }));
    $("f-ranges").appendChild(row);
  }

  function computeMask() {
    var mask = new Uint8Array(N).fill(1), i, desc = [];
    if ($("f-haspath").checked) { for (i = 0; i < N; i++) if (!HASPATH[i]) mask[i] = 0; desc.push("has an input->output path"); }
    D.ops.forEach(function (op) {
      var lo = +$("f-op-lo-" + op).value, hi = +$("f-op-hi-" + op).value;
      if (lo > 0 || hi < opMax[op]) {
        for (i = 0; i < N; i++) if (OPC[op][i] < lo || OPC[op][i] > hi) mask[i] = 0;
        desc.push(lo + " <= #" + op + " <= " + hi);
      }
    });
    D.edges.forEach(function (e) {
      var v = $("f-edge-" + e).value;
      if (v !== "any") {
        var k = D.ops.indexOf(v);
        for (i = 0; i < N; i++) if (EDGEOPS[e][i] !== k) mask[i] = 0;
        desc.push("edge " + e + " = " + v);
      }
    });
    for (var s = 0; s < 3; s++) {
      var c = $("f-rcol-" + s).value, lo = $("f-rlo-" + s).value, hi = $("f-rhi-" + s).value;
      if (!c || (lo === "" && hi === "")) continue;
      var v = V[c];
      for (i = 0; i < N; i++) {
        if (isNaN(v[i]) || (lo !== "" && v[i] < +lo) || (hi !== "" && v[i] > +hi)) mask[i] = 0;
      }
      desc.push((lo !== "" ? lo + " <= " : "") + c + (hi !== "" ? " <= " + hi : ""));
    }
    return { mask: mask, desc: desc };
  }

  /* ---- views ---- */
  function edgeValue(v, idx, log) {
    var lo = Infinity, hi = -Infinity;
    idx.forEach(function (i) { var a = v[i]; if (isFinite(a) && (!log || a > 0)) { lo = Math.min(lo, a); hi = Math.max(hi, a); } });
    if (!isFinite(lo)) return log ? 1 : 0;
    return log ? lo / 1.15 : lo - 0.04 * ((hi - lo) || 1);
  }
  function visibleRows(x, y, logx, logy) {
    var rows = [], vx = V[x], vy = V[y];
    for (var i = 0; i < N; i++) {
      if (!state.mask[i] || isNaN(vx[i]) || isNaN(vy[i])) continue;
      if ((logx && isFinite(vx[i]) && vx[i] <= 0) || (logy && isFinite(vy[i]) && vy[i] <= 0)) continue;
      rows.push(i);
    }
    return rows;
  }
  function drawScatter() {
    var x = $("x").value, y = $("y").value, c = $("color").value, logx = $("logx").checked, logy = $("logy").checked;
    var rows = visibleRows(x, y, logx, logy), vx = V[x], vy = V[y];
    var ex = edgeValue(vx, rows, logx), ey = edgeValue(vy, rows, logy);
    var reg = { x: [], y: [], c: [], id: [] }, sing = { x: [], y: [], id: [] }, xs = [], ys = [];
    rows.forEach(function (i) {
      var a = vx[i], b = vy[i];
      xs.push(a === -Infinity ? -Number.MAX_VALUE : a); ys.push(b === -Infinity ? -Number.MAX_VALUE : b);
      if (a === -Infinity || b === -Infinity) {
        sing.x.push(a === -Infinity ? ex : a); sing.y.push(b === -Infinity ? ey : b); sing.id.push(INDEX[i]);
      } else {
        reg.x.push(a); reg.y.push(b); reg.id.push(INDEX[i]); reg.c.push(c ? V[c][i] : 0);
      }
    });
    var tau = kendallTauB(xs, ys), rho = spearman(xs, ys), n = rows.length;
    var traces = [
      { type: "scattergl", mode: "markers", x: reg.x, y: reg.y, customdata: reg.id, name: "cells", showlegend: false,
        marker: c ? { size: 4, color: reg.c, colorscale: "Viridis", opacity: 0.75, colorbar: { title: { text: c, side: "right" }, thickness: 12 } }
                  : { size: 4, color: "#1f77b4", opacity: 0.75 },
        hovertemplate: "index %{customdata}<br>" + x + " = %{x:.5g}<br>" + y + " = %{y:.5g}<extra></extra>" },
      { type: "scattergl", mode: "markers", x: sing.x, y: sing.y, customdata: sing.id, name: "-inf (singular, " + sing.id.length + ")",
        showlegend: sing.id.length > 0, marker: { symbol: "triangle-down", size: 7, color: "#7f7f7f" },
        hovertemplate: "index %{customdata}: -inf (singular kernel)<extra></extra>" },
      selectedTrace(function (i) { return [vx[i] === -Infinity ? ex : vx[i], vy[i] === -Infinity ? ey : vy[i]]; })
    ];
    var corner = n >= 3 && isFinite(tau) ? "Kendall τ = " + tau.toFixed(3) + "   Spearman ρ = " + rho.toFixed(3) + "   n = " + n.toLocaleString("en-US")
                                         : "τ / ρ undefined (n = " + n + ")";
    var layout = { template: "plotly_white", height: 560, margin: { l: 60, r: 20, t: 30, b: 60 }, hovermode: "closest",
      xaxis: { title: { text: x }, type: logx ? "log" : "linear" }, yaxis: { title: { text: y }, type: logy ? "log" : "linear" },
      legend: { orientation: "h", y: 1.06, x: 1, xanchor: "right" }, uirevision: x + y + logx + logy,
      annotations: [{ text: corner, xref: "paper", yref: "paper", x: 0.01, y: 0.99, xanchor: "left", yanchor: "top", showarrow: false,
                      bgcolor: "rgba(255,255,255,0.85)", bordercolor: "#999", borderwidth: 1, font: { size: 13 } }],
      meta: { n: n, tau: tau, rho: rho } };
    Plotly.react("scatter", traces, layout, { displaylogo: false, scrollZoom: true });
  }
  function selectedTrace(pos) {
    var t = { type: "scattergl", mode: "markers", x: [], y: [], customdata: [], name: "selected", showlegend: false,
              marker: { symbol: "star", size: 18, color: "#e6194b", line: { color: "black", width: 1.5 } },
              hovertemplate: "selected: index %{customdata}<extra></extra>" };
    if (state.selected !== null) {
      var p = pos(ROW[state.selected]);
      if (!isNaN(p[0]) && !isNaN(p[1])) { t.x = [p[0]]; t.y = [p[1]]; t.customdata = [state.selected]; }
    }
    return t;
  }
  function paretoMask(rows, a, c) {
    var order = rows.slice().sort(function (p, q) { return (c[p] - c[q]) || (a[q] - a[p]); });
    var front = [], bestLower = -Infinity, k = 0;
    while (k < order.length) {
      var j = k; while (j < order.length && c[order[j]] === c[order[k]]) j++;
      var top = a[order[k]];
      for (var t = k; t < j; t++) if (a[order[t]] === top && top > bestLower) front.push(order[t]);
      bestLower = Math.max(bestLower, top); k = j;
    }
    return front;
  }
  function drawPareto() {
    var acc = $("p-acc").value, cost = $("p-cost").value, log = $("p-log").checked, a = V[acc], c = V[cost], rows = [];
    for (var i = 0; i < N; i++) if (state.mask[i] && isFinite(a[i]) && isFinite(c[i]) && (!log || c[i] > 0)) rows.push(i);
    var front = paretoMask(rows, a, c);
    var title = "Pareto front: max " + acc + " vs min " + cost + " over " + rows.length.toLocaleString("en-US") + " cells";
    var traces = [
      { type: "scattergl", mode: "markers", x: rows.map(function (i) { return c[i]; }), y: rows.map(function (i) { return a[i]; }),
        customdata: rows.map(function (i) { return INDEX[i]; }), name: "cells", marker: { size: 4, color: "#c7c7c7" } },
      { type: "scattergl", mode: "lines+markers", x: front.map(function (i) { return c[i]; }), y: front.map(function (i) { return a[i]; }),
        customdata: front.map(function (i) { return INDEX[i]; }), line: { shape: "hv", color: "#3cb44b", width: 2.5 },
        marker: { size: 8, color: "#3cb44b" }, name: "Pareto front (" + front.length + " cells)" }];
    if (state.selected !== null) {
      var s = ROW[state.selected], sa = a[s], sc = c[s];
      if (isFinite(sa) && isFinite(sc)) {
        var dom = 0;
        rows.forEach(function (i) { if (a[i] >= sa && c[i] <= sc && (a[i] > sa || c[i] < sc)) dom++; });
        var where = dom === 0 ? "on the front" : "dominated by " + dom.toLocaleString("en-US") + (dom > 1 ? " cells" : " cell");
        traces.push({ type: "scattergl", mode: "markers", x: [sc], y: [sa], customdata: [state.selected], name: "selected " + state.selected + ": " + where,
                      marker: { symbol: "star", size: 18, color: "#e6194b", line: { color: "black", width: 1.5 } } });
        title += " — cell " + state.selected + " is " + where;
      }
    }
    Plotly.react("pareto", traces, { template: "plotly_white", height: 460, title: { text: title, font: { size: 14 } },
      xaxis: { title: { text: cost }, type: log ? "log" : "linear" }, yaxis: { title: { text: acc } },
      margin: { l: 60, r: 20, t: 50, b: 50 }, legend: { orientation: "h", y: -0.2 } }, { displaylogo: false });
  }
  function svgOf(row) {
    if (D.svgs) return D.svgs[row];
    if (!D.svg_template) return "";
    var out = D.svg_template.replace("__ARCH__", archOf(row));
    D.edges.forEach(function (e, k) {
      var op = D.ops[EDGEOPS[e][row]], st = D.op_style[op];
      out = out.split("__OP" + k + "__").join(op).split("__LABEL" + k + "__").join(st[0])
               .split("__COLOR" + k + "__").join(st[1]).split("__DASH" + k + "__").join(st[2]);
    });
    return out;
  }
  function inspect(index) {
    var box = $("inspector"), row = ROW[index];
    if (row === undefined) { box.textContent = "index " + index + " is not a cell of " + D.space; return; }
    state.selected = index;
    box.innerHTML = "";
    box.appendChild(el("h3", { id: "inspector-index" }, "cell " + index));
    var head = el("div", { id: "inspector-headline", "class": "headline" }, D.defaults.headline + ": ");
    head.appendChild(el("strong", { id: "inspector-headline-value" }, fmt(V[D.defaults.headline][row], "accuracy")));
    box.appendChild(head);
    var svg = svgOf(row);
    if (svg) { var img = el("img", { id: "inspector-dag", "class": "dag", alt: archOf(row) }); img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg); box.appendChild(img); }
    box.appendChild(el("code", { id: "inspector-arch", "class": "arch" }, archOf(row)));
    var members = [];
    for (var i = 0; i < N; i++) if (CODES[i] === CODES[row]) members.push(INDEX[i]);
    var iso = el("details", { open: "", id: "inspector-iso" });
    iso.appendChild(el("summary", {}, "isomorphism class: " + ISO[row] + " cell(s)"));
    iso.appendChild(el("code", { "class": "arch" }, D.unique.classes[CODES[row]]));
    var mem = el("div", { "class": "members" });
    members.slice(0, 60).forEach(function (m) {
      var b = el("button", { "class": "member" + (m === index ? " current" : "") }, String(m));
      b.onclick = function () { select(m); };
      mem.appendChild(b);
    });
    if (members.length > 60) mem.appendChild(el("span", {}, " … and " + (members.length - 60) + " more"));
    iso.appendChild(mem); box.appendChild(iso);
    var tbl = el("table", { id: "inspector-metrics", "class": "metrics" });
    ["accuracy", "proxy", "cost", "metric"].forEach(function (role) {
      var cols = D.columns.filter(function (c) { return D.roles[c] === role; });
      if (!cols.length) return;
      var tr = el("tr"); var th = el("th", { colspan: 2, "class": "role" }, role); tr.appendChild(th); tbl.appendChild(tr);
      cols.forEach(function (c) {
        var tr2 = el("tr"); tr2.appendChild(el("td", {}, c)); tr2.appendChild(el("td", { "class": "num" }, fmt(V[c][row], role)));
        tbl.appendChild(tr2);
      });
    });
    box.appendChild(tbl);
    var cur = D.curves[String(index)];
    if (cur) {
      Plotly.react("curves", cur.map(function (s) { return { type: "scatter", mode: "lines", x: s.epoch, y: s.accuracy, name: s.name }; }),
                   { template: "plotly_white", height: 320, title: { text: "NATS-Bench training curves, cell " + index, font: { size: 13 } },
                     xaxis: { title: { text: "epoch" } }, yaxis: { title: { text: "accuracy (%)" } }, margin: { l: 50, r: 10, t: 40, b: 40 } },
                   { displaylogo: false });
    } else { Plotly.purge("curves"); $("curves").textContent = Object.keys(D.curves).length ? "No NATS record for cell " + index + " in this file." : ""; }
  }
  function select(index) { inspect(index); drawScatter(); drawPareto(); }
  function update() {
    var m = computeMask();
    state.mask = m.mask;
    var shown = 0; for (var i = 0; i < N; i++) shown += m.mask[i];
    $("count").innerHTML = "";
    $("count").appendChild(el("strong", { id: "count-value" }, shown.toLocaleString("en-US")));
    $("count").appendChild(document.createTextNode(" of " + N.toLocaleString("en-US") + " cells"));
    if (m.desc.length) $("count").appendChild(el("div", { "class": "filter-desc" }, m.desc.join("; ")));
    D.ops.forEach(function (op) {
      var u = 0; for (var i = 0; i < N; i++) if (m.mask[i] && OPC[op][i] > 0) u++;
      $("f-op-usage-" + op).textContent = "in " + u.toLocaleString("en-US") + " cells";
    });
    drawScatter(); drawPareto();
  }

  document.querySelectorAll(".filters select, .filters input").forEach(function (e) { e.addEventListener("change", update); });
  ["x", "y", "color", "logx", "logy"].forEach(function (id) { $(id).addEventListener("change", drawScatter); });
  ["p-acc", "p-cost", "p-log"].forEach(function (id) { $(id).addEventListener("change", drawPareto); });
  $("reset").addEventListener("click", function () {
    $("f-haspath").checked = false;
    D.ops.forEach(function (op) { $("f-op-lo-" + op).value = 0; $("f-op-hi-" + op).value = opMax[op]; });
    D.edges.forEach(function (e) { $("f-edge-" + e).value = "any"; });
    for (var s = 0; s < 3; s++) { $("f-rcol-" + s).value = ""; $("f-rlo-" + s).value = ""; $("f-rhi-" + s).value = ""; }
    update();
  });
  $("goto").addEventListener("keydown", function (ev) { if (ev.key === "Enter") select(parseInt(this.value, 10)); });

  var notes = D.notices || [];
  if (notes.length) {
    var det = el("details"); det.appendChild(el("summary", {}, "notes on the data (" + notes.length + ")"));
    var ul = el("ul"); notes.forEach(function (t) { ul.appendChild(el("li", {}, t)); }); det.appendChild(ul);
    $("notices").appendChild(det);
  }
  var P = D.provenance || {};
  $("prov").textContent = "static export · " + N.toLocaleString("en-US") + " cells · nwot " + (P.nwot || "?") +
    (P.commit ? " @ " + String(P.commit).slice(0, 10) : "") + " · written " + (P.written || "?");
  if (D.corr) Plotly.newPlot("corr", D.corr.data, D.corr.layout, { displaylogo: false }); else $("corr-box").style.display = "none";
  update();
  ["scatter", "pareto"].forEach(function (id) {
    $(id).on("plotly_click", function (ev) {
      var p = ev.points && ev.points[0];
      if (p && p.customdata !== undefined) select(Number(Array.isArray(p.customdata) ? p.customdata[0] : p.customdata));
    });
  });
})();
