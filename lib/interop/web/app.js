/*
 * The shareable page's logic (`unreasonable export --html`): loads the exported LayersModel
 * (embedded by model.js, so it works from file:// where fetch() cannot), makes its recurrent
 * layers stateful so each new byte costs one step, and streams text into the page. Needs
 * tf.min.js (TensorFlow.js) and sampler.js first. The API the tests use is window.unreasonable.
 */
(function () {
  'use strict';
  var M = window.UNREASONABLE_MODEL;
  var S = window.UnreasonableSampler;
  var $ = function (id) { return document.getElementById(id); };
  var idToByte = M.vocab.id_to_byte;
  var V = idToByte.length;
  var byteToId = new Map();
  idToByte.forEach(function (b, i) { byteToId.set(b, i); });
  var info = M.vocab.model || {};
  var embedded = !!info.embeddingSize;
  var model = null;
  var running = null;

  function base64ToArrayBuffer(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  /** The exported topology, made for stepping: batch 1, stateful recurrent layers, logits out. */
  function steppingTopology(topology) {
    var t = JSON.parse(JSON.stringify(topology));
    var layers = t.config.layers || t.config;
    layers.forEach(function (layer, i) {
      var c = layer.config;
      if (i === 0 && c.batch_input_shape) c.batch_input_shape[0] = 1;
      if (layer.class_name === 'LSTM' || layer.class_name === 'SimpleRNN' || layer.class_name === 'GRU') c.stateful = true;
      // The weights are loaded over the initial ones: skip the (slow, orthogonal) random init.
      ['kernel_initializer', 'recurrent_initializer', 'embeddings_initializer'].forEach(function (k) {
        if (c[k]) c[k] = { class_name: 'Zeros', config: {} };
      });
      // The sampler divides logits by the temperature (as lib/generate/sample.ts does): drop the softmax.
      if (i === layers.length - 1 && layer.class_name === 'Dense') c.activation = 'linear';
    });
    return t;
  }

  var ready = (async function () {
    var params = new URLSearchParams(location.search);
    var backend = params.get('backend') || 'cpu';
    if (!(await tf.setBackend(backend))) await tf.setBackend('cpu');
    await tf.ready();
    model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: steppingTopology(M.modelJson.modelTopology),
      weightSpecs: M.modelJson.weightsManifest[0].weights,
      weightData: base64ToArrayBuffer(M.weightsBase64),
    }));
    return tf.getBackend();
  })();

  /** Feed ids through the stateful model; the logits of the last one. */
  function feed(ids) {
    var y = tf.tidy(function () {
      var x = embedded
        ? tf.tensor2d(Float32Array.from(ids), [1, ids.length])
        : tf.oneHot(tf.tensor1d(Int32Array.from(ids), 'int32'), V).toFloat().expandDims(0); // [1, T, V]
      var out = model.predict(x); // [1, T, V]
      return out.slice([0, ids.length - 1, 0], [1, 1, V]).reshape([V]);
    });
    var logits = y.dataSync();
    y.dispose();
    return logits;
  }

  /** Prime ids as lib/generate/sample.ts makes them (unknown bytes skipped; empty: "\n" or id 0). */
  function primeIds(prime) {
    var bytes = new TextEncoder().encode(prime || '');
    var ids = [], skipped = 0;
    bytes.forEach(function (b) { if (byteToId.has(b)) ids.push(byteToId.get(b)); else skipped++; });
    if (bytes.length === 0) ids = [byteToId.has(10) ? byteToId.get(10) : 0];
    return { ids: ids, skipped: skipped };
  }

  function checkArgs(o) {
    var t = Number(o.temperature), n = Number(o.length), seed = Number(o.seed);
    if (!(t >= 0) || !isFinite(t)) throw new Error('temperature must be a number ≥ 0');
    if (!(n >= 0) || Math.floor(n) !== n) throw new Error('length must be a whole number ≥ 0');
    if (!isFinite(seed) || Math.floor(seed) !== seed) throw new Error('seed must be a whole number');
    return { temperature: t, length: n, seed: seed, prime: o.prime == null ? '' : String(o.prime) };
  }

  /**
   * Generate bytes; onText(chunk) gets the decoded text as it streams. Resolves to
   * {bytes, text, skipped, stopped}. shouldStop() is polled between bytes.
   */
  async function generate(opts, onText, shouldStop) {
    await ready;
    var a = checkArgs(opts);
    var rng = new S.Rng(a.seed);
    var p = primeIds(a.prime);
    if (p.ids.length === 0) throw new Error('no byte of the prime text is in the model\'s vocabulary');
    model.resetStates();
    var decoder = new TextDecoder('utf-8');
    var bytes = [], text = '', lastYield = Date.now(), stopped = false;
    var logits = feed(p.ids);
    for (var i = 0; i < a.length; i++) {
      var id = S.pickId(logits, a.temperature, rng);
      bytes.push(idToByte[id]);
      var chunk = decoder.decode(Uint8Array.of(idToByte[id]), { stream: true });
      text += chunk;
      if (chunk && onText) onText(chunk);
      if (i === a.length - 1) break;
      if (Date.now() - lastYield > 30) {
        await new Promise(function (r) { setTimeout(r, 0); });
        lastYield = Date.now();
        if (shouldStop && shouldStop()) { stopped = true; break; }
      }
      logits = feed([id]);
    }
    var tail = decoder.decode();
    text += tail;
    if (tail && onText) onText(tail);
    return { bytes: bytes, text: text, skipped: p.skipped, stopped: stopped };
  }

  /** Next-byte probabilities after `prime` at `temperature` (for checks against the library). */
  async function nextProbs(prime, temperature) {
    await ready;
    var p = primeIds(prime);
    model.resetStates();
    return Array.from(S.softmaxWithTemperature(feed(p.ids), temperature == null ? 1 : temperature));
  }

  function setState(state, message) {
    document.body.setAttribute('data-state', state);
    $('status').textContent = message;
  }

  function onGenerate(ev) {
    ev.preventDefault();
    if (running) { running.stop = true; return; }
    var opts = { prime: $('prime').value, temperature: $('temperature').value, length: $('length').value, seed: $('seed').value };
    var out = $('output');
    out.textContent = '';
    var primeSpan = document.createElement('span');
    primeSpan.className = 'prime';
    primeSpan.textContent = opts.prime;
    out.appendChild(primeSpan);
    var gen = document.createTextNode('');
    out.appendChild(gen);
    var job = running = { stop: false };
    $('generate').textContent = 'Stop';
    setState('running', 'generating…');
    var t0 = performance.now();
    generate(opts, function (chunk) { gen.appendData(chunk); }, function () { return job.stop; })
      .then(function (r) {
        var secs = (performance.now() - t0) / 1000;
        setState('done', (r.stopped ? 'stopped after ' : '') + r.bytes.length + ' bytes in ' + secs.toFixed(1) + ' s (' +
          Math.round(r.bytes.length / Math.max(secs, 1e-3)) + ' bytes/s, ' + tf.getBackend() + ')' +
          (r.skipped ? '; ' + r.skipped + ' prime byte(s) not in the vocabulary were skipped' : ''));
      })
      .catch(function (e) { setState('error', 'error: ' + e.message); })
      .then(function () { running = null; $('generate').textContent = 'Generate'; });
  }

  window.unreasonable = { ready: ready, generate: generate, nextProbs: nextProbs, steppingTopology: steppingTopology };

  document.addEventListener('DOMContentLoaded', function () {
    $('model').textContent = (info.modelType || 'model').toUpperCase() + ', ' + (info.numLayers || '?') + ' × ' +
      (info.hiddenSize || '?') + ' units, ' + V + ' bytes in the vocabulary' + (embedded ? ', embedding ' + info.embeddingSize : '');
    $('form').addEventListener('submit', onGenerate);
    setState('loading', 'loading the model…');
    ready.then(function (backend) {
      $('generate').disabled = false;
      setState('ready', 'ready (TensorFlow.js ' + tf.version.tfjs + ', ' + backend + ' backend)');
    }, function (e) { setState('error', 'error: could not load the model: ' + e.message); });
  });
})();
