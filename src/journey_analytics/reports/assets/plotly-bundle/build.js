// Builds ../plotly-journey.min.js: `npm ci --ignore-scripts && npm run build` (see ../README.md).
// The same esbuild settings as plotly.js's own esbuild-config.js, minus the WebGL plugins no trace here needs.
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const { version } = require('plotly.js/package.json');

esbuild.build({
    entryPoints: ['./entry.js'],
    outfile: process.argv[2],
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'none',
    banner: { js: `/*! plotly.js v${version} partial bundle (core, bar, sankey) for journey-analytics reports | MIT License, Copyright (c) Plotly, Inc. */` },
    plugins: [InlineCSSPlugin(), environmentPlugin({ NODE_DEBUG: false })],
    alias: { stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning',
}).catch(() => process.exit(1));
