/*
 * The page script of the neuron explorer (lib/toolkit/viz/explore.ts inlines it into every output).
 * Plain browser JavaScript, no libraries, no network: `unreasonableExplorer(root, data)` builds
 * the explorer inside `root` from the data explorerData() made. Must not contain a closing
 * script tag.
 */
/* eslint-disable */
function unreasonableExplorer(root, D) {
  'use strict';
  if (!root) return;
  var uid = root.id;
  var T = D.T, H = D.H, G = D.groups.length, N = G * H, K = D.k;

  // ---------------------------------------------------------------- data
  function b64(s) {
    var bin = atob(s), a = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);
    return a;
  }
  function u16(s) {
    var b = b64(s), a = new Float64Array(b.length >> 1);
    for (var i = 0; i < a.length; i++) a[i] = (b[2 * i] | (b[2 * i + 1] << 8)) / 65535;
    return a;
  }
  var Q = b64(D.q), lo = D.lo, hi = D.hi;
  var bytes = b64(D.bytes), topBytes = b64(D.topBytes), topProbs = u16(D.topProbs), nextProb = u16(D.nextProb);
  var feats = D.features.map(function (f) {
    var q = b64(f.q), s = new Float64Array(T), step = (f.hi - f.lo) / 255;
    for (var t = 0; t < T; t++) s[t] = f.lo + q[t] * step;
    return { name: f.name, corr: f.corr, series: s, lo: f.lo, hi: f.hi };
  });
  function group(n) { return D.groups[Math.floor(n / H)]; }
  function label(n) { var g = group(n); return g.layer + '/' + g.kind + '/' + (n % H); }
  /** Unit n's value after byte t (dequantised exactly as explore.ts's dequantize). */
  function val(n, t) { return lo[n] + Q[n * T + t] * ((hi[n] - lo[n]) / 255); }
  // Mean and standard deviation per unit (for "most active": the largest |z|).
  var mean = new Float64Array(N), sd = new Float64Array(N);
  for (var n1 = 0; n1 < N; n1++) {
    var m = 0, ss = 0;
    for (var t1 = 0; t1 < T; t1++) m += val(n1, t1);
    m /= T;
    for (var t2 = 0; t2 < T; t2++) { var d = val(n1, t2) - m; ss += d * d; }
    mean[n1] = m; sd[n1] = Math.sqrt(ss / T);
  }
  // Colour scale per unit: tanh kinds ±1, sigmoid gates 0…1 (0.5 white); c (unbounded, often far
  // from 0) as its deviation from its mean over the window, ±the largest one (as unitHtml does).
  var range = new Float64Array(N);
  for (var n0 = 0; n0 < N; n0++) range[n0] = group(n0).scale === 'cell' ? Math.max(hi[n0] - mean[n0], mean[n0] - lo[n0]) || 1 : 1;
  /** The value on the unit's colour scale, −1…1. */
  function sval(n, t) {
    var v = val(n, t), s = group(n).scale;
    return s === 'sigmoid' ? 2 * v - 1 : s === 'cell' ? (v - mean[n]) / range[n] : v;
  }
  /** Units that do not change over the window (e.g. dead ones) take no part in span matches. */
  function flat(n) { var s = group(n).scale; return (hi[n] - lo[n]) / (s === 'cell' ? 2 * range[n] : s === 'sigmoid' ? 0.5 : 1) < 0.02; }
  /** activationColor() of lib/toolkit/viz/text.ts: −1 blue, 0 white, +1 red. */
  function color(x) {
    x = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
    var c = x >= 0 ? [178, 24, 43] : [33, 102, 172], a = Math.abs(x);
    return 'rgb(' + Math.round(255 + (c[0] - 255) * a) + ',' + Math.round(255 + (c[1] - 255) * a) + ',' + Math.round(255 + (c[2] - 255) * a) + ')';
  }
  function fmt(x, d) {
    var s = Math.abs(x).toFixed(d === undefined ? 3 : d);
    return (x >= 0 || +s === 0 ? '+' : '\u2212') + s;
  }
  function glyphName(t) {
    var g = D.glyphs[t];
    return g === '\n' ? '\u21b5' : g === ' ' ? '\u2423' : g === '\t' ? '\u21e5' : g === '' ? '\u00b7' : g;
  }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; }); }
  function pos(t) { return (D.from + t).toLocaleString('en-US'); }

  // ---------------------------------------------------------------- layout
  var P = '#' + uid + ' ';
  var css = [
    P + '{font:13px/1.35 sans-serif;color:#000;background:#fff;text-align:left}',
    P + '.ux-top{display:flex;flex-wrap:wrap;gap:6px 14px;align-items:center;margin:0 0 6px 0}',
    P + '.ux-title{font-weight:bold}',
    P + '.ux-legend{display:flex;align-items:center;gap:4px;font-size:12px}',
    P + '.ux-bar{width:140px;height:12px;border:1px solid #999}',
    P + '.ux-main{display:flex;gap:10px;align-items:flex-start}',
    P + '.ux-left{flex:1 1 auto;min-width:0}',
    P + '.ux-text{position:relative;white-space:pre-wrap;word-break:break-all;font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px;line-height:1.45;' +
      'margin:0;padding:6px;border:1px solid #ccc;overflow:auto;background:#fff;color:#000;cursor:text}',
    P + '.ux-text span{border-radius:1px}',
    P + '.ux-text i{font-style:normal;color:#999}',
    P + '.ux-text span.ux-hl{box-shadow:inset 0 -3px 0 #222}',
    P + '.ux-text span.ux-sel{box-shadow:inset 0 -3px 0 #2ca02c}',
    P + '.ux-text span.ux-pin{outline:2px solid #000;outline-offset:-1px}',
    P + '.ux-status{font-size:12px;color:#333;min-height:1.4em;margin:2px 0}',
    P + '.ux-side{flex:0 0 300px;width:300px;font-size:12px}',
    P + '.ux-side select,' + P + '.ux-side input{font-size:12px;box-sizing:border-box}',
    P + '.ux-search{width:100%;margin:3px 0}',
    P + '.ux-list{position:relative;height:200px;overflow:auto;border:1px solid #ccc;font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace}',
    P + '.ux-row,' + P + '.ux-act,' + P + '.ux-match{padding:0 4px;cursor:pointer;white-space:nowrap;display:flex;justify-content:space-between;gap:8px}',
    P + '.ux-row:hover,' + P + '.ux-act:hover,' + P + '.ux-match:hover{background:#eef3fb}',
    P + '.ux-row.ux-cur{background:#ffe08a}',
    P + '.ux-row.ux-plotted{font-weight:bold}',
    P + '.ux-h{font-weight:bold;margin:8px 0 2px 0}',
    P + '.ux-info{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace}',
    P + '.ux-pred{display:flex;align-items:center;gap:6px;white-space:nowrap}',
    P + '.ux-pred .ux-g{width:1.6em;text-align:center;font-weight:bold}',
    P + '.ux-pred .ux-pb{flex:1 1 auto;height:10px;background:#f0f0f0;position:relative}',
    P + '.ux-pred .ux-pb b{position:absolute;left:0;top:0;bottom:0;background:#d62728}',
    P + '.ux-pred.ux-next .ux-g{outline:2px solid #111;outline-offset:-1px}',
    P + '.ux-note{color:#666;font-size:12px}',
    P + '.ux-plot{display:block;width:100%;height:130px;border:1px solid #ccc;background:#fff;margin-top:6px;cursor:crosshair}',
    P + '.ux-axis{display:flex;justify-content:space-between;font-size:11px;color:#666}',
    P + '.ux-keys{font-size:12px;display:flex;flex-wrap:wrap;gap:2px 12px}',
    P + '.ux-matches{margin-top:6px;font-size:12px}',
    P + '.ux-matches .ux-match{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;justify-content:flex-start}',
    P + '.ux-ctl{display:flex;gap:8px;align-items:center;flex-wrap:wrap;font-size:12px}',
    P + '.ux-ctl input{width:4.5em}',
  ].join('\n');
  var plotColors = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e'];

  var rankOpts = '<option value="variance">variance</option>' + feats.map(function (f, i) {
    return '<option value="' + i + '">|r| vs ' + esc(f.name) + '</option>';
  }).join('');
  root.innerHTML =
    '<style>' + css + '</style>' +
    '<div class="ux-top"><span class="ux-title">' + esc(D.title) + '</span>' +
    '<span class="ux-legend"><b class="ux-unit"></b> <span class="ux-l0"></span><span class="ux-bar"></span><span class="ux-l1"></span> <span class="ux-scale ux-note"></span></span></div>' +
    '<div class="ux-main"><div class="ux-left">' +
    '<div class="ux-text" tabindex="0" style="max-height:' + (+D.textHeight) + 'px"></div>' +
    '<div class="ux-status"></div>' +
    '<svg class="ux-plot" viewBox="0 0 1000 130" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg"></svg>' +
    '<div class="ux-axis"><span>' + pos(0) + '</span><span class="ux-note">the selected unit(s) on their colour scale (blue \u22121 \u2026 red +1), the ranking feature dashed; click to jump there</span><span>' + pos(T - 1) + '</span></div>' +
    '<div class="ux-keys"></div>' +
    '<div class="ux-ctl">select a span of the text to find the units on inside it and off around it: ' +
    '<label>on \u2265 <input class="ux-th" type="number" step="0.05" min="-0.95" max="0.95" value="' + D.threshold + '"></label>' +
    '<label>off for <input class="ux-pad" type="number" step="1" min="1" value="' + D.pad + '"> byte(s) before/after</label></div>' +
    '<div class="ux-matches"></div>' +
    '</div><div class="ux-side">' +
    '<div>rank by <select class="ux-rank">' + rankOpts + '</select></div>' +
    '<input class="ux-search" type="text" placeholder="search layer/kind/index: 0/c/17, h/5, 1/f" spellcheck="false">' +
    '<div class="ux-list" tabindex="0"></div>' +
    '<div class="ux-note">click a unit to colour the text by it, shift-click to add it to the plot; \u2191/\u2193 step</div>' +
    '<div class="ux-info"></div>' +
    '</div></div>';
  function q(sel) { return root.querySelector(sel); }
  var textEl = q('.ux-text'), statusEl = q('.ux-status'), plotEl = q('.ux-plot'), keysEl = q('.ux-keys');
  var listEl = q('.ux-list'), searchEl = q('.ux-search'), rankEl = q('.ux-rank'), infoEl = q('.ux-info');
  var matchesEl = q('.ux-matches'), thEl = q('.ux-th'), padEl = q('.ux-pad');

  // The text: one span per byte (UTF-8 continuation bytes are empty spans), newlines as ↵ + a line break.
  var html = [];
  for (var t3 = 0; t3 < T; t3++) {
    var g = D.glyphs[t3];
    html.push('<span data-i="' + t3 + '">' + (g === '\n' ? '<i>\u21b5</i>\n' : esc(g)) + '</span>');
  }
  textEl.innerHTML = html.join('');
  var spans = textEl.querySelectorAll('span[data-i]');

  // ---------------------------------------------------------------- state
  var cur = 0;              // the unit the text is coloured by
  var plotted = [];         // units drawn in the plot ({n, sign}); cur first
  var pinned = -1, hovered = -1;
  var rankIdx = D.rankBy === 'variance' ? -1 : feats.findIndex(function (f) { return f.name === D.rankBy; });
  var order = [];           // units in ranking order
  var filtered = [];        // order after the search filter
  var selection = null;     // {a, b}
  var highlights = [];      // [{a, b}] other places with the same on/off pattern

  function score(n) { return rankIdx < 0 ? D.variance[n] : Math.abs(feats[rankIdx].corr[n]); }
  function scoreText(n) { return rankIdx < 0 ? 'var ' + D.variance[n].toPrecision(3) : 'r ' + fmt(feats[rankIdx].corr[n]); }
  function rank() {
    order = [];
    for (var n = 0; n < N; n++) order.push(n);
    order.sort(function (a, b) { return score(b) - score(a) || a - b; });
    filter();
  }
  function matchesQuery(n, toks) {
    var l = '/' + label(n) + '/';
    for (var i = 0; i < toks.length; i++) if (l.indexOf('/' + toks[i] + '/') < 0) return false;
    return true;
  }
  var MAX_ROWS = 400;
  function filter() {
    var toks = searchEl.value.trim().split(/\s+/).filter(Boolean).map(function (s) { return s.replace(/^\/+|\/+$/g, ''); });
    filtered = toks.length ? order.filter(function (n) { return matchesQuery(n, toks); }) : order.slice();
    var rows = filtered.slice(0, MAX_ROWS).map(function (n, i) {
      return '<div class="ux-row" data-n="' + n + '" data-label="' + label(n) + '"><span>' + (i + 1) + '. ' + label(n) + '</span><span>' + scoreText(n) + '</span></div>';
    });
    if (filtered.length > MAX_ROWS) rows.push('<div class="ux-note">\u2026 ' + (filtered.length - MAX_ROWS) + ' more: type to narrow</div>');
    if (!filtered.length) rows.push('<div class="ux-note">no unit matches (write layer/kind/index, e.g. ' + label(0) + ')</div>');
    listEl.innerHTML = rows.join('');
    markList();
  }
  function markList() {
    var rows = listEl.querySelectorAll('.ux-row');
    for (var i = 0; i < rows.length; i++) {
      var n = +rows[i].getAttribute('data-n');
      rows[i].classList.toggle('ux-cur', n === cur);
      rows[i].classList.toggle('ux-plotted', plotted.some(function (p) { return p.n === n; }));
    }
    var c = listEl.querySelector('.ux-cur');
    if (c) {
      var top = c.offsetTop;
      if (top < listEl.scrollTop || top + c.offsetHeight > listEl.scrollTop + listEl.clientHeight) listEl.scrollTop = top - listEl.clientHeight / 2;
    }
  }

  // ---------------------------------------------------------------- colouring
  function select(n, keepPlot) {
    cur = n;
    if (!keepPlot) plotted = [{ n: n, sign: 1 }];
    else if (!plotted.some(function (p) { return p.n === n; })) plotted.unshift({ n: n, sign: 1 });
    for (var t = 0; t < T; t++) spans[t].style.backgroundColor = color(sval(n, t));
    var g = group(n), s = g.scale;
    q('.ux-unit').textContent = 'layer ' + g.layer + ' ' + g.kind + '[' + (n % H) + ']';
    q('.ux-bar').style.background = 'linear-gradient(to right,' + [-1, -0.5, 0, 0.5, 1].map(color).join(',') + ')';
    q('.ux-l0').textContent = s === 'sigmoid' ? '0' : s === 'cell' ? fmt(mean[n] - range[n], 2) : '\u22121';
    q('.ux-l1').textContent = s === 'sigmoid' ? '1' : s === 'cell' ? fmt(mean[n] + range[n], 2) : '+1';
    q('.ux-scale').textContent = s === 'sigmoid' ? '(white = 0.5)' : s === 'cell' ? '(white = its mean here, ' + fmt(mean[n], 2) + ')' : '';
    markList();
    drawPlot();
    showInfo(pinned >= 0 ? pinned : hovered);
  }

  // ---------------------------------------------------------------- plot
  var SVGNS = 'http://www.w3.org/2000/svg';
  function xOf(t) { return T > 1 ? (t / (T - 1)) * 1000 : 500; }
  function yOf(x) { return 65 - Math.max(-1.15, Math.min(1.15, x)) * 55; }
  function path(points, color, width, dash) {
    var p = document.createElementNS(SVGNS, 'path');
    p.setAttribute('d', points);
    p.setAttribute('fill', 'none');
    p.setAttribute('stroke', color);
    p.setAttribute('stroke-width', width);
    p.setAttribute('vector-effect', 'non-scaling-stroke');
    if (dash) p.setAttribute('stroke-dasharray', dash);
    plotEl.appendChild(p);
    return p;
  }
  function band(a, b, fill, cls) {
    var r = document.createElementNS(SVGNS, 'rect');
    var x0 = xOf(a - 0.5), x1 = xOf(b + 0.5);
    r.setAttribute('x', Math.max(0, x0));
    r.setAttribute('width', Math.max(1.5, x1 - x0));
    r.setAttribute('y', 0);
    r.setAttribute('height', 130);
    r.setAttribute('fill', fill);
    if (cls) r.setAttribute('class', cls);
    plotEl.appendChild(r);
  }
  var cursorPath = null, pinPath = null;
  function drawPlot() {
    while (plotEl.firstChild) plotEl.removeChild(plotEl.firstChild);
    highlights.forEach(function (h) { band(h.a, h.b, 'rgba(0,0,0,0.13)', 'ux-band'); });
    if (selection) band(selection.a, selection.b, 'rgba(44,160,44,0.3)', 'ux-band-sel');
    path('M0 ' + yOf(0) + 'H1000', '#bbb', 1);
    if (rankIdx >= 0) {
      var f = feats[rankIdx], span = f.hi - f.lo || 1, d = [];
      for (var t = 0; t < T; t++) d.push((t ? 'L' : 'M') + xOf(t).toFixed(2) + ' ' + yOf(2 * (f.series[t] - f.lo) / span - 1).toFixed(2));
      path(d.join(''), '#999', 1.2, '4 2');
    }
    var keys = rankIdx >= 0 ? ['<span style="color:#999">- - ' + esc(feats[rankIdx].name) + '</span>'] : [];
    plotted.slice(0, plotColors.length).forEach(function (p, i) {
      var d = [];
      for (var t = 0; t < T; t++) d.push((t ? 'L' : 'M') + xOf(t).toFixed(2) + ' ' + yOf(p.sign * sval(p.n, t)).toFixed(2));
      path(d.join(''), plotColors[i], i === 0 ? 1.6 : 1.2).setAttribute('class', 'ux-line');
      keys.push('<span style="color:' + plotColors[i] + '">\u2014 ' + label(p.n) + (p.sign < 0 ? ' inverted' : '') + '</span>');
    });
    keysEl.innerHTML = keys.join('');
    cursorPath = path('M-10 0V130', '#888', 1);
    pinPath = path('M-10 0V130', '#000', 1.5);
    moveCursor();
  }
  function moveCursor() {
    if (cursorPath) cursorPath.setAttribute('d', 'M' + (hovered >= 0 ? xOf(hovered) : -10) + ' 0V130');
    if (pinPath) pinPath.setAttribute('d', 'M' + (pinned >= 0 ? xOf(pinned) : -10) + ' 0V130');
  }
  function tOfPlot(ev) {
    var r = plotEl.getBoundingClientRect();
    return Math.max(0, Math.min(T - 1, Math.round(((ev.clientX - r.left) / r.width) * (T - 1))));
  }
  plotEl.addEventListener('mousemove', function (ev) { hover(tOfPlot(ev)); });
  plotEl.addEventListener('mouseleave', function () { hover(-1); });
  plotEl.addEventListener('click', function (ev) { var t = tOfPlot(ev); pin(t); scrollTo(t); });

  // ---------------------------------------------------------------- a byte: value, predictions, most active units
  function scrollTo(t) {
    var s = spans[t];
    if (s.offsetTop < textEl.scrollTop || s.offsetTop > textEl.scrollTop + textEl.clientHeight - 20) textEl.scrollTop = s.offsetTop - textEl.clientHeight / 2;
  }
  function hover(t) {
    hovered = t;
    moveCursor();
    statusEl.textContent = t >= 0 ? 'byte ' + pos(t) + ' \u2018' + glyphName(t) + '\u2019: ' + label(cur) + ' = ' + fmt(val(cur, t)) : pinned >= 0 ? '' : 'hover a byte for its value and predictions; click to pin it';
    if (pinned < 0) showInfo(t);
  }
  function pin(t) {
    if (pinned >= 0) spans[pinned].classList.remove('ux-pin');
    pinned = t === pinned ? -1 : t;
    if (pinned >= 0) spans[pinned].classList.add('ux-pin');
    moveCursor();
    showInfo(pinned >= 0 ? pinned : hovered);
  }
  function showInfo(t) {
    if (t < 0) { infoEl.innerHTML = '<div class="ux-h">hover or click a byte</div>'; return; }
    var next = t + 1 < T ? bytes[t + 1] : D.after;
    var out = ['<div class="ux-h">byte ' + pos(t) + ' \u2018' + esc(glyphName(t)) + '\u2019 0x' + ('0' + bytes[t].toString(16)).slice(-2) + (pinned === t ? ' (pinned)' : '') + '</div>',
      '<div>' + esc(label(cur)) + ' = <b class="ux-val">' + fmt(val(cur, t)) + '</b></div>'];
    if (K > 0) {
      out.push('<div class="ux-h">next byte: top ' + K + '</div>');
      for (var j = 0; j < K; j++) {
        var b = topBytes[t * K + j], p = topProbs[t * K + j];
        out.push('<div class="ux-pred' + (b === next ? ' ux-next' : '') + '" data-byte="' + b + '"><span class="ux-g">' + esc(D.byteNames[b]) + '</span>' +
          '<span class="ux-pb"><b style="width:' + (100 * p).toFixed(1) + '%"></b></span><span class="ux-p">' + p.toFixed(3) + '</span></div>');
      }
      if (next >= 0) out.push('<div class="ux-note">what came next: \u2018' + esc(D.byteNames[next]) + '\u2019, p = ' + nextProb[t].toFixed(3) + ' (outlined if in the top ' + K + ')</div>');
    }
    // Units most unusual here: the largest |z| = |value − the unit's mean| / its standard deviation.
    var best = [];
    for (var n = 0; n < N; n++) {
      if (!(sd[n] > 1e-6)) continue;
      var z = (val(n, t) - mean[n]) / sd[n];
      if (best.length < 8 || Math.abs(z) > Math.abs(best[best.length - 1].z)) {
        best.push({ n: n, z: z });
        best.sort(function (x, y) { return Math.abs(y.z) - Math.abs(x.z); });
        if (best.length > 8) best.pop();
      }
    }
    out.push('<div class="ux-h">units most active here (|z| over this text)</div>');
    best.forEach(function (e) {
      out.push('<div class="ux-act" data-n="' + e.n + '" data-label="' + label(e.n) + '"><span>' + label(e.n) + ' = ' + fmt(val(e.n, t)) + '</span><span>z ' + fmt(e.z, 1) + '</span></div>');
    });
    infoEl.innerHTML = out.join('');
  }
  function spanIndex(node) {
    var e = node && (node.nodeType === 3 ? node.parentNode : node);
    e = e && e.closest ? e.closest('[data-i]') : null;
    return e && textEl.contains(e) ? +e.getAttribute('data-i') : -1;
  }
  textEl.addEventListener('mouseover', function (ev) { var t = spanIndex(ev.target); if (t >= 0) hover(t); });
  textEl.addEventListener('mouseleave', function () { hover(-1); });

  // ---------------------------------------------------------------- a span: LSTMVis pattern match
  /** Byte index of a selection boundary (start: the first byte inside it, end: the last). */
  function boundary(node, offset, isEnd) {
    if (node === textEl) {
      var kids = textEl.childNodes;
      var k = isEnd ? kids[Math.min(offset, kids.length) - 1] : kids[Math.min(offset, kids.length - 1)];
      return k ? spanIndex(k) : -1;
    }
    var t = spanIndex(node);
    if (t < 0 || node.nodeType !== 3) return t;
    var s = spans[t], texts = [], w = document.createTreeWalker(s, NodeFilter.SHOW_TEXT), x;
    while ((x = w.nextNode())) texts.push(x);
    if (isEnd && offset === 0 && node === texts[0]) return t - 1;
    if (!isEnd && offset >= node.length && node === texts[texts.length - 1]) return t + 1;
    return t;
  }
  function onSelect() {
    var sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return false;
    var r = sel.getRangeAt(0);
    if (!textEl.contains(r.startContainer) || !textEl.contains(r.endContainer)) return false;
    var a = boundary(r.startContainer, r.startOffset, false), b = boundary(r.endContainer, r.endOffset, true);
    if (a < 0 || b < 0 || b < a) return false;
    match(a, b);
    return true;
  }
  var lastMatch = null;
  function match(a, b) {
    var th = +thEl.value, pad = Math.max(1, Math.round(+padEl.value) || 1), L = b - a + 1;
    if (!(th > -1 && th < 1)) th = D.threshold;
    selection = { a: a, b: b };
    var res = [];
    for (var n = 0; n < N; n++) {
      if (flat(n)) continue;
      for (var sign = 1; sign >= -1; sign -= 2) {
        var minIn = Infinity, maxOut = -Infinity, onIn = 0, offOut = 0, nOut = 0, x;
        for (var t = a; t <= b; t++) { x = sign * sval(n, t); minIn = Math.min(minIn, x); if (x >= th) onIn++; }
        for (var t2 = Math.max(0, a - pad); t2 < a; t2++) { x = sign * sval(n, t2); maxOut = Math.max(maxOut, x); nOut++; if (x < th) offOut++; }
        for (var t3 = b + 1; t3 <= Math.min(T - 1, b + pad); t3++) { x = sign * sval(n, t3); maxOut = Math.max(maxOut, x); nOut++; if (x < th) offOut++; }
        if (nOut === 0) { maxOut = -1; nOut = offOut = 1; } // the span covers the whole text: nothing around it
        // fit: the share of the span that is on plus the share around it that is off (2 = a match);
        // margin: the lowest value inside minus the highest around.
        res.push({ n: n, sign: sign, minIn: minIn, maxOut: maxOut, fit: onIn / L + offOut / nOut, score: minIn - maxOut, ok: minIn >= th && maxOut < th });
      }
    }
    res.sort(function (x, y) { return (y.ok - x.ok) || (x.ok ? 0 : y.fit - x.fit) || (y.score - x.score) || (x.n - y.n); });
    var ok = res.filter(function (r) { return r.ok; });
    var shown = (ok.length ? ok : res).slice(0, 10);
    var best = shown[0];
    // Other stretches where the best unit has the same on/off pattern: maximal runs of "on"
    // (≥ th) of a similar length (⌈L/2⌉ … 2L bytes), off for `pad` bytes on each side.
    highlights = [];
    if (best && best.ok) {
      var minLen = Math.ceil(L / 2), maxLen = 2 * L, t0 = -1;
      for (var t4 = 0; t4 <= T; t4++) {
        var on = t4 < T && best.sign * sval(best.n, t4) >= th;
        if (on && t0 < 0) t0 = t4;
        if (!on && t0 >= 0) {
          var len = t4 - t0, okSides = t0 - pad >= 0 && t4 + pad <= T; // off around it, inside the text
          for (var u = Math.max(0, t0 - pad); u < t0; u++) if (best.sign * sval(best.n, u) >= th) okSides = false;
          for (var v = t4; v < Math.min(T, t4 + pad); v++) if (best.sign * sval(best.n, v) >= th) okSides = false;
          if (len >= minLen && len <= maxLen && okSides && !(t0 === a && t4 - 1 === b)) highlights.push({ a: t0, b: t4 - 1 });
          t0 = -1;
        }
      }
    }
    lastMatch = { a: a, b: b };
    for (var i = 0; i < T; i++) { spans[i].classList.remove('ux-hl'); spans[i].classList.toggle('ux-sel', i >= a && i <= b); }
    highlights.forEach(function (h) { for (var i = h.a; i <= h.b; i++) spans[i].classList.add('ux-hl'); });
    var head = 'span ' + pos(a) + '\u2013' + pos(b) + ' (' + L + ' byte' + (L > 1 ? 's' : '') + '): ';
    var lines = [];
    if (ok.length) {
      lines.push('<div class="ux-h">' + head + ok.length + ' unit' + (ok.length > 1 ? 's are' : ' is') + ' on (\u2265 ' + th + ') inside and off for ' + pad + ' byte(s) before and after; by margin (lowest inside \u2212 highest around):</div>');
    } else {
      lines.push('<div class="ux-h">' + head + 'no unit is on (\u2265 ' + th + ') all through it and off around it; the closest (most of the span on, most around off):</div>');
    }
    shown.forEach(function (r, i) {
      lines.push('<div class="ux-match" data-n="' + r.n + '" data-sign="' + r.sign + '" data-label="' + label(r.n) + '"><span>' + (i + 1) + '. ' + label(r.n) + (r.sign < 0 ? ' inverted' : '') +
        '</span><span>margin ' + fmt(r.score, 2) + '</span><span class="ux-note">' + (r.ok ? '' : Math.round(100 * r.fit / 2) + '% fit, ') + 'inside \u2265 ' + fmt(r.minIn, 2) + ', around \u2264 ' + fmt(r.maxOut, 2) + (r.sign < 0 ? ' (inverted: low inside, high around)' : '') + '</span></div>');
    });
    if (best && best.ok) lines.push('<div class="ux-note ux-found">' + label(best.n) + ' has the same pattern in ' + highlights.length + ' other place' + (highlights.length === 1 ? '' : 's') + ' (underlined: on for ' + Math.ceil(L / 2) + '\u2013' + 2 * L + ' bytes, off around)</div>');
    if (!best) lines = ['<div class="ux-h">' + head + 'every unit is flat here: nothing to match</div>'];
    matchesEl.innerHTML = lines.join('');
    if (!best) { drawPlot(); return; }
    plotted = shown.slice(0, 3).map(function (r) { return { n: r.n, sign: r.sign }; });
    select(best.n, true);
  }
  textEl.addEventListener('mouseup', function () {
    setTimeout(function () {
      if (!onSelect()) {
        var sel = window.getSelection();
        if (sel && sel.isCollapsed && hovered >= 0) pin(hovered);
      }
    }, 0);
  });
  matchesEl.addEventListener('click', function (ev) {
    var e = ev.target.closest('.ux-match');
    if (e) select(+e.getAttribute('data-n'), true);
  });
  thEl.addEventListener('change', function () { if (lastMatch) match(lastMatch.a, lastMatch.b); });
  padEl.addEventListener('change', function () { if (lastMatch) match(lastMatch.a, lastMatch.b); });

  // ---------------------------------------------------------------- the unit picker
  listEl.addEventListener('click', function (ev) {
    var e = ev.target.closest('.ux-row');
    if (!e) return;
    var n = +e.getAttribute('data-n');
    if (ev.shiftKey) {
      var i = plotted.findIndex(function (p) { return p.n === n; });
      if (i >= 0 && plotted.length > 1) plotted.splice(i, 1); else if (i < 0) plotted.push({ n: n, sign: 1 });
      markList();
      drawPlot();
    } else select(n);
  });
  infoEl.addEventListener('click', function (ev) {
    var e = ev.target.closest('.ux-act');
    if (e) select(+e.getAttribute('data-n'));
  });
  rankEl.addEventListener('change', function () {
    rankIdx = rankEl.value === 'variance' ? -1 : +rankEl.value;
    rank();
    drawPlot();
  });
  searchEl.addEventListener('input', filter);
  function step(d) {
    if (!filtered.length) return;
    var i = filtered.indexOf(cur);
    i = i < 0 ? 0 : Math.max(0, Math.min(filtered.length - 1, i + d));
    select(filtered[i]);
  }
  function onKey(ev) {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      step(ev.key === 'ArrowDown' ? 1 : -1);
    } else if (ev.key === 'Enter' && ev.target === searchEl && filtered.length) {
      ev.preventDefault();
      select(filtered[0]);
    } else if (ev.key === 'Escape' && pinned >= 0) pin(pinned);
  }
  searchEl.addEventListener('keydown', onKey);
  listEl.addEventListener('keydown', onKey);
  textEl.addEventListener('keydown', function (ev) { if (ev.key === 'Escape' && pinned >= 0) pin(pinned); });

  // ---------------------------------------------------------------- start
  if (rankIdx >= 0) rankEl.value = String(rankIdx);
  rank();
  hover(-1);
  select(D.unit !== null && D.unit !== undefined ? D.unit : order[0]);
  root.setAttribute('data-ready', '1');
}
