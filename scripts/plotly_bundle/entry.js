'use strict';
// The trace types nwot explore draws (nwot/explore/figures.py, nwot/explore/static/export.js):
// scatter (always in plotly.js core), scattergl (the 15,625-point WebGL views) and heatmap (the
// proxy-proxy correlation matrix). Registered the way plotly.js's own lib/index-*.js partial bundles do.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/scattergl'),
    require('plotly.js/lib/heatmap'),
]);

module.exports = Plotly;
