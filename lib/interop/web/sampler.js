/*
 * The sampler of the shareable page (`unreasonable export --html`): the SAME algorithms as
 * lib/util/rng.ts (sfc32 seeded through splitmix32, 12 warm-up draws, categorical by inverse CDF) and
 * lib/generate/sample.ts (softmax(logits / temperature) in float64, temperature 0 = argmax), so that a page
 * and `unreasonable sample` draw the same bytes for the same model, seed and settings.
 * test/export-html.test.ts checks this file against lib/util/rng.ts and lib/generate/sample.ts.
 * Plain browser JavaScript (no modules): defines globalThis.UnreasonableSampler.
 */
(function (root) {
  'use strict';

  function Rng(seed) {
    this.s = new Uint32Array(4);
    var x = (seed || 0) >>> 0;
    for (var i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      var z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    for (var j = 0; j < 12; j++) this.nextUint32();
  }
  Rng.prototype.nextUint32 = function () {
    var s = this.s;
    var t = (((s[0] + s[1]) >>> 0) + s[3]) >>> 0;
    s[3] = (s[3] + 1) >>> 0;
    s[0] = s[1] ^ (s[1] >>> 9);
    s[1] = (s[2] + (s[2] << 3)) >>> 0;
    s[2] = ((s[2] << 21) | (s[2] >>> 11)) >>> 0;
    s[2] = (s[2] + t) >>> 0;
    return t;
  };
  Rng.prototype.next = function () {
    return this.nextUint32() / 4294967296;
  };
  Rng.prototype.categorical = function (weights) {
    var total = 0, i;
    for (i = 0; i < weights.length; i++) total += weights[i];
    var u = this.next() * total;
    for (i = 0; i < weights.length; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    for (i = weights.length - 1; i >= 0; i--) if (weights[i] > 0) return i;
    return weights.length - 1;
  };

  function softmaxWithTemperature(logits, temperature) {
    var p = new Float64Array(logits.length), max = -Infinity, sum = 0, i;
    for (i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
    for (i = 0; i < logits.length; i++) sum += p[i] = Math.exp((logits[i] - max) / temperature);
    for (i = 0; i < p.length; i++) p[i] /= sum;
    return p;
  }

  function argmax(xs) {
    var best = 0;
    for (var i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
    return best;
  }

  function pickId(logits, temperature, rng) {
    if (temperature === 0) return argmax(logits);
    return rng.categorical(softmaxWithTemperature(logits, temperature));
  }

  root.UnreasonableSampler = { Rng: Rng, softmaxWithTemperature: softmaxWithTemperature, argmax: argmax, pickId: pickId };
})(typeof globalThis !== 'undefined' ? globalThis : this);
