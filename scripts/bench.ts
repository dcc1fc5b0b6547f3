/**
 * `npm run bench`: training and sampling speed of our models against PyTorch (and, for
 * min-char-rnn's configuration, against Karpathy's numpy script) on the same machine, in one run.
 *
 *   S: 2×128 LSTM, batch 32, seq 64      M: 2×512 LSTM, batch 100, seq 100 (Karpathy's config)
 *   minchar: vanilla RNN, 100 units, batch 1, seq 25, Adagrad lr 0.1, values clipped to ±5
 *            (min-char-rnn's settings; its peer is scripts/min_char_rnn.py, iterations/s)
 *
 * Each configuration runs in its own child process (clean peak RSS): median seconds per training
 * step after warm-up → bytes/s = batch × seq / step; the backend's own matmul peak and the share
 * of it that training reaches in useful FLOPs; sampling bytes/s one byte at a time; recording bytes/s
 * (h and c of every layer and the top-5 predictions after each byte, one byte at a time); and, for S,
 * tf.layers.lstm on the same backend.
 *
 * Every configuration runs idle and with one core busy (a busy-loop child process the bench
 * starts and stops itself: a user's machine is never idle), and with our default threads and
 * with UNREASONABLE_THREADS=1 (--threads, --load choose).
 *
 * PyTorch is the fastest one available (scripts/torch-peer.ts: $UNREASONABLE_PYTHON, else
 * python3, else /usr/bin/python3), with its version, BLAS and matmul GFLOP/s printed; no ratio
 * is printed against one whose matmul is broken-slow. It runs --torch-runs times (default 2) and
 * its best speeds count, since they vary between runs. The last line printed is a JSON summary.
 *
 * Usage: npm run bench [-- --configs S,M,minchar --load idle,busy --threads default,1
 *                          --steps-s 20 --steps-m 6 --steps-minchar 3000 --sample 1000 --no-layers --torch-runs 2]
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describeChoice, findTorchPeer, PeerChoice, torchEnv } from './torch-peer';

const CONFIGS = {
  S: { modelType: 'lstm', hiddenSize: 128, numLayers: 2, batchSize: 32, seqLength: 64 },
  M: { modelType: 'lstm', hiddenSize: 512, numLayers: 2, batchSize: 100, seqLength: 100 },
  minchar: { modelType: 'rnn', hiddenSize: 100, numLayers: 1, batchSize: 1, seqLength: 25 },
} as const;
const DEFAULT_STEPS: Record<ConfigName, string> = { S: '20', M: '6', minchar: '3000' };
type ConfigName = keyof typeof CONFIGS;

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

/** Useful FLOPs of one training step (forward + backward ≈ 3 × forward matmul FLOPs). */
function trainFlops(c: (typeof CONFIGS)[ConfigName], V: number): number {
  const gates = c.modelType === 'lstm' ? 4 : 1;
  let perByte = 0;
  for (let l = 0; l < c.numLayers; l++) perByte += 2 * ((l === 0 ? V : c.hiddenSize) + c.hiddenSize) * gates * c.hiddenSize;
  perByte += 2 * c.hiddenSize * V;
  return 3 * perByte * c.batchSize * c.seqLength;
}

async function child(name: ConfigName, what: 'ours' | 'layers'): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const L = await import('../lib/index');
  const info = await L.initBackend();
  const c = CONFIGS[name];
  const corpus = await L.loadCorpus(fs.existsSync(L.tinyShakespeareFile()) ? 'tinyshakespeare' : 'moby-dick');
  const vocab = L.ByteVocab.fromData(corpus.data);
  const ids = vocab.encode(corpus.data);
  const steps = Number(flag(`steps-${name.toLowerCase()}`, DEFAULT_STEPS[name]));
  const times: number[] = [];
  let sampleBytesPerSec: number | undefined;
  let recordBytesPerSec: number | undefined;
  if (what === 'ours') {
    const model = new L.CharModel({ modelType: c.modelType, vocabSize: vocab.size, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: 0 }, 0);
    const opt = name === 'minchar' ? { optimizer: 'adagrad' as const, learningRate: 0.1, gradClip: 5, clipMode: 'value' as const } : { optimizer: 'adam' as const, learningRate: 2e-3 };
    const tr = new L.Trainer(model, vocab, { train: ids }, { batchSize: c.batchSize, seqLength: c.seqLength, steps: steps + 2, ...opt });
    for (let i = 0; i < steps + 2; i++) {
      const t = performance.now();
      tr.trainStep();
      times.push((performance.now() - t) / 1000);
    }
    const n = name === 'minchar' ? 0 : Number(flag('sample', '1000'));
    if (n > 0) {
      L.sample(model, vocab, { length: 50, temperature: 1, seed: 2 }); // warm-up (JIT), as the PyTorch side does
      const t = performance.now();
      L.sample(model, vocab, { length: n, temperature: 1, seed: 1 });
      sampleBytesPerSec = n / ((performance.now() - t) / 1000);
      // Recording what the neurons do (notebook 11, the explorer): h and c of every layer and the
      // top-5 predictions after each byte, the toolkit's defaults.
      const { record } = await import('../lib/toolkit/record');
      record(model, vocab, corpus.data.subarray(0, 50));
      const t2 = performance.now();
      record(model, vocab, corpus.data.subarray(0, n));
      recordBytesPerSec = n / ((performance.now() - t2) / 1000);
    }
  } else {
    const model = tf.sequential();
    for (let l = 0; l < c.numLayers; l++) {
      model.add(tf.layers.lstm({ units: c.hiddenSize, returnSequences: true, recurrentActivation: 'sigmoid', ...(l === 0 ? { inputShape: [c.seqLength, vocab.size] } : {}) }));
    }
    model.add(tf.layers.dense({ units: vocab.size }));
    model.compile({ optimizer: tf.train.adam(2e-3), loss: (y: import('@tensorflow/tfjs').Tensor, p: import('@tensorflow/tfjs').Tensor) => tf.losses.softmaxCrossEntropy(y, p) });
    const loader = new L.BatchLoader(ids, c.batchSize, c.seqLength);
    for (let i = 0; i < Math.min(steps, 8) + 2; i++) {
      const ch = loader.chunk(i);
      const [x, y] = tf.tidy(() => [tf.oneHot(tf.tensor2d(ch.x, [c.batchSize, c.seqLength], 'int32'), vocab.size).toFloat(), tf.oneHot(tf.tensor2d(ch.y, [c.batchSize, c.seqLength], 'int32'), vocab.size).toFloat()]);
      const t = performance.now();
      await model.trainOnBatch(x, y);
      times.push((performance.now() - t) / 1000);
      tf.dispose([x, y]);
    }
  }
  const sorted = times.slice(2).sort((a, b) => a - b);
  const { wasmThreadsInUse } = await import('../lib/backend/wasm-threads');
  const median = sorted[Math.floor(sorted.length / 2)];
  // The backend's matmul peak, same shapes as the measurement.
  const a = tf.randomNormal([512, 1024]), b = tf.randomNormal([1024, 2048]);
  tf.matMul(a, b).dispose();
  const mm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const r = tf.matMul(a, b);
    r.dataSync();
    r.dispose();
    mm.push((performance.now() - t) / 1000);
  }
  const peakGflops = (2 * 512 * 1024 * 2048) / Math.min(...mm) / 1e9;
  const result = {
    backend: info.name,
    backendDetail: info.source,
    threads: info.name === 'wasm' ? wasmThreadsInUse() : undefined,
    bytesPerSec: (c.batchSize * c.seqLength) / median,
    medianStepSec: median,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    // The wasm heap only grows, so its size now is its peak (of the 4 GB it may reach).
    wasmHeapMb: info.name === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 2 ** 20 : undefined,
    trainGflops: trainFlops(c, vocab.size) / median / 1e9,
    matmulPeakGflops: peakGflops,
    sampleBytesPerSec,
    recordBytesPerSec,
    vocab: vocab.size,
  };
  console.log(JSON.stringify(result));
}

type Result = Record<string, number | string | undefined>;

/** A child process for one configuration; `threads` "default" leaves UNREASONABLE_THREADS unset. */
function runChild(name: ConfigName, what: 'ours' | 'layers', threads: string): Result | undefined {
  const env = { ...process.env };
  if (threads === 'default') delete env.UNREASONABLE_THREADS;
  else env.UNREASONABLE_THREADS = threads;
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', name, '--what', what, ...process.argv.slice(2)], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (e) {
    console.error(`bench: ${name}/${what} failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function runTorch(name: ConfigName, trainFile: string, python: string): Record<string, number> | undefined {
  const c = CONFIGS[name];
  const steps = Number(flag(`steps-${name.toLowerCase()}`, DEFAULT_STEPS[name])) + 2;
  try {
    const out = execFileSync(python, [path.join(__dirname, 'torch_charlstm.py'), trainFile, trainFile, '--bench', '--hidden', String(c.hiddenSize), '--layers', String(c.numLayers), '--batch', String(c.batchSize), '--seq', String(c.seqLength), '--steps', String(steps), '--sample-bytes', flag('sample', '1000'), '--record-bytes', flag('sample', '1000'), '--threads', '2'], {
      encoding: 'utf8',
      env: torchEnv(2),
    });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (e) {
    console.error(`bench: PyTorch ${name} failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** Karpathy's numpy min-char-rnn on the same text (scripts/min_char_rnn.py). */
function runNumpy(trainFile: string): Record<string, number> | undefined {
  const python = process.env.UNREASONABLE_PYTHON?.trim() || 'python3';
  try {
    const out = execFileSync(python, [path.join(__dirname, 'min_char_rnn.py'), trainFile, '--steps', flag('steps-minchar', DEFAULT_STEPS.minchar)], { encoding: 'utf8' });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (e) {
    console.error(`bench: numpy min-char-rnn (${python}) failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

/** One core kept busy by a child process spinning (stopped by `stop`, and at exit). */
function busyCore(): { stop(): void } {
  const child: ChildProcess = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const stop = () => {
    if (child.exitCode === null && !child.killed) child.kill('SIGKILL');
  };
  process.on('exit', stop);
  return {
    stop() {
      stop();
      process.removeListener('exit', stop);
    },
  };
}

/**
 * PyTorch's speed on this machine varies between processes by up to 1.5× (S: 26k–40k bytes/s),
 * so it runs --torch-runs times (default 2) and its best training and sampling speeds count:
 * the ratios are against PyTorch at its best.
 */
function bestTorch(name: ConfigName, trainFile: string, python: string): Record<string, number> | undefined {
  const runs = Math.max(1, Number(flag('torch-runs', '2')));
  let best: Record<string, number> | undefined;
  for (let i = 0; i < runs; i++) {
    const r = runTorch(name, trainFile, python);
    if (!r) return best;
    if (!best) best = r;
    else {
      best.bytes_per_s = Math.max(best.bytes_per_s, r.bytes_per_s);
      if (r.sample_bytes_per_s) best.sample_bytes_per_s = Math.max(best.sample_bytes_per_s ?? 0, r.sample_bytes_per_s);
      if (r.record_bytes_per_s) best.record_bytes_per_s = Math.max(best.record_bytes_per_s ?? 0, r.record_bytes_per_s);
      best.peak_rss_mb = Math.min(best.peak_rss_mb, r.peak_rss_mb);
    }
  }
  return best;
}

async function main(): Promise<void> {
  const childIdx = process.argv.indexOf('--child');
  if (childIdx > 0) return child(process.argv[childIdx + 1] as ConfigName, flag('what', 'ours') as 'ours' | 'layers');
  const L = await import('../lib/index');
  const corpus = await L.loadCorpus(fs.existsSync(L.tinyShakespeareFile()) ? 'tinyshakespeare' : 'moby-dick');
  const trainFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), `${corpus.name}.txt`);
  fs.writeFileSync(trainFile, corpus.data);
  const names = flag('configs', 'S,M,minchar').split(',') as ConfigName[];
  for (const n of names) if (!(n in CONFIGS)) throw new Error(`unknown config "${n}": use ${Object.keys(CONFIGS).join(', ')}`);
  const loads = flag('load', 'idle,busy').split(',');
  for (const l of loads) if (l !== 'idle' && l !== 'busy') throw new Error(`--load takes idle and/or busy, got "${l}"`);
  const threadSettings = flag('threads', 'default,1').split(',');
  for (const t of threadSettings) if (t !== 'default' && !/^[1-8]$/.test(t)) throw new Error(`--threads takes default and/or 1…8, got "${t}"`);
  let peer: PeerChoice | undefined;
  if (names.some((n) => n !== 'minchar')) {
    peer = findTorchPeer(2);
    for (const line of describeChoice(peer)) console.log(line);
  }
  const summary: Record<string, unknown> = { corpus: corpus.name, torchPeer: peer?.peer ? { ...peer.peer, ratioOk: peer.ratioOk, why: peer.why } : null };
  const rows: string[][] = [['config', 'load', 'impl', 'bytes/s', 'it/s', 'ratio vs peer', 'peak RSS MB', 'wasm heap MB', '% of matmul peak', 'sample B/s', 'record B/s']];
  const fmt = (x: number | undefined, digits = 0) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
  for (const name of names) {
    const c = CONFIGS[name];
    for (const load of loads) {
      const busy = load === 'busy' ? busyCore() : undefined;
      try {
        // The peer: PyTorch (S, M) or numpy min-char-rnn.
        const torch = name !== 'minchar' && peer?.peer ? bestTorch(name, trainFile, peer.peer.python) : undefined;
        const numpy = name === 'minchar' ? runNumpy(trainFile) : undefined;
        const peerBps = torch?.bytes_per_s ?? numpy?.bytes_per_s;
        const ratioOk = name === 'minchar' ? numpy !== undefined : torch !== undefined && peer!.ratioOk;
        const entry: Record<string, unknown> = { peerBytesPerSec: peerBps === undefined ? null : Math.round(peerBps), peerPeakRssMb: torch ? Math.round(torch.peak_rss_mb) : null };
        if (name === 'minchar') entry.numpyIterationsPerSec = numpy ? +numpy.iterations_per_s.toFixed(1) : null;
        for (const threads of threadSettings) {
          const ours = runChild(name, 'ours', threads);
          if (!ours) continue;
          const bps = ours.bytesPerSec as number;
          const e: Record<string, unknown> = {
            backend: ours.backendDetail,
            threadsInUse: ours.threads,
            bytesPerSec: Math.round(bps),
            iterationsPerSec: +(1 / (ours.medianStepSec as number)).toFixed(1),
            ratio: ratioOk && peerBps ? +(bps / peerBps).toFixed(3) : null,
            peakRssMb: Math.round(ours.peakRssMb as number),
            wasmHeapMb: ours.wasmHeapMb === undefined ? undefined : Math.round(ours.wasmHeapMb as number),
            matmulPeakFraction: +((ours.trainGflops as number) / (ours.matmulPeakGflops as number)).toFixed(3),
            matmulPeakGflops: +(ours.matmulPeakGflops as number).toFixed(1),
            sampleBytesPerSec: ours.sampleBytesPerSec === undefined ? undefined : Math.round(ours.sampleBytesPerSec as number),
            sampleRatio: ratioOk && torch?.sample_bytes_per_s && ours.sampleBytesPerSec !== undefined ? +((ours.sampleBytesPerSec as number) / torch.sample_bytes_per_s).toFixed(3) : null,
            recordBytesPerSec: ours.recordBytesPerSec === undefined ? undefined : Math.round(ours.recordBytesPerSec as number),
            recordRatio: ratioOk && torch?.record_bytes_per_s && ours.recordBytesPerSec !== undefined ? +((ours.recordBytesPerSec as number) / torch.record_bytes_per_s).toFixed(3) : null,
          };
          entry[`threads=${threads}`] = e;
          const label = `ours (${String(ours.backendDetail).replace('@tensorflow/tfjs-backend-', '')}; threads=${threads})`;
          rows.push([name, load, label, fmt(bps), fmt(e.iterationsPerSec as number, 1), e.ratio === null ? '-' : String(e.ratio), String(e.peakRssMb), String(e.wasmHeapMb ?? '-'), `${(100 * (e.matmulPeakFraction as number)).toFixed(0)}%`, fmt(e.sampleBytesPerSec as number | undefined), fmt(e.recordBytesPerSec as number | undefined)]);
        }
        if (torch) {
          rows.push([name, load, `torch ${torch.torch}, ${torch.threads} threads`, fmt(torch.bytes_per_s), fmt(1 / torch.median_step_s, 1), peer!.ratioOk ? '1' : 'refused', fmt(torch.peak_rss_mb), '-', '-', fmt(torch.sample_bytes_per_s), fmt(torch.record_bytes_per_s)]);
        }
        if (numpy) rows.push([name, load, `numpy ${numpy.numpy} min-char-rnn`, fmt(numpy.bytes_per_s), fmt(numpy.iterations_per_s, 1), '1', '-', '-', '-', '-', '-']);
        if (name === 'S' && load === 'idle' && !process.argv.includes('--no-layers')) {
          const layers = runChild(name, 'layers', threadSettings[0]);
          if (layers) {
            entry.layersBytesPerSec = Math.round(layers.bytesPerSec as number);
            rows.push([name, load, `tf.layers.lstm (${layers.backend}; threads=${threadSettings[0]})`, fmt(layers.bytesPerSec as number), '-', torch && peer!.ratioOk ? String(+((layers.bytesPerSec as number) / torch.bytes_per_s).toFixed(3)) : '-', fmt(layers.peakRssMb as number), '-', '-', '-', '-']);
          }
        }
        ((summary[name] ??= { ...c }) as Record<string, unknown>)[load] = entry;
      } finally {
        busy?.stop();
      }
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((v, i) => v.padEnd(widths[i])).join('  '));
  if (peer && !peer.ratioOk) console.log(`no ratio against PyTorch: ${peer.why.join('; ')}`);
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
