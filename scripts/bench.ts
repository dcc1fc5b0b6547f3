/**
 * `npm run bench`: training and sampling speed of our LSTM against PyTorch on the same machine,
 * measured in one run.
 *
 *   S: 2×128 LSTM, batch 32, seq 64      M: 2×512 LSTM, batch 100, seq 100 (Karpathy's config)
 *
 * Each configuration runs in its own child process (clean peak RSS): median seconds per training
 * step after warm-up → bytes/s = batch × seq / step; the backend's own matmul peak and the share
 * of it that training reaches in useful FLOPs; sampling bytes/s one byte at a time; and, for S,
 * tf.layers.lstm on the same backend. PyTorch (when /usr/bin/python3 has torch) runs the same
 * model with its best thread settings. The last line printed is a JSON summary.
 *
 * The wasm backend runs multi-threaded (UNREASONABLE_THREADS, default one thread per core; 1 =
 * the stock single-threaded build); the table names the backend and its threads.
 *
 * PyTorch runs twice (--torch-runs) and its best speeds count, since they vary between runs.
 *
 * Usage: npm run bench [-- --steps-s 20 --steps-m 6 --sample 1000 --configs S,M --no-layers --torch-runs 2]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CONFIGS = {
  S: { hiddenSize: 128, numLayers: 2, batchSize: 32, seqLength: 64 },
  M: { hiddenSize: 512, numLayers: 2, batchSize: 100, seqLength: 100 },
} as const;
type ConfigName = keyof typeof CONFIGS;

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

/** Useful FLOPs of one training step (forward + backward ≈ 3 × forward matmul FLOPs). */
function trainFlops(c: (typeof CONFIGS)[ConfigName], V: number): number {
  let perByte = 0;
  for (let l = 0; l < c.numLayers; l++) perByte += 2 * ((l === 0 ? V : c.hiddenSize) + c.hiddenSize) * 4 * c.hiddenSize;
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
  const steps = Number(flag(name === 'S' ? 'steps-s' : 'steps-m', name === 'S' ? '20' : '6'));
  const times: number[] = [];
  let sampleBytesPerSec: number | undefined;
  if (what === 'ours') {
    const model = new L.CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: 0 }, 0);
    const tr = new L.Trainer(model, vocab, { train: ids }, { batchSize: c.batchSize, seqLength: c.seqLength, steps: steps + 2, optimizer: 'adam', learningRate: 2e-3 });
    for (let i = 0; i < steps + 2; i++) {
      const t = performance.now();
      tr.trainStep();
      times.push((performance.now() - t) / 1000);
    }
    const n = Number(flag('sample', '1000'));
    L.sample(model, vocab, { length: 50, temperature: 1, seed: 2 }); // warm-up (JIT), as the PyTorch side does
    const t = performance.now();
    L.sample(model, vocab, { length: n, temperature: 1, seed: 1 });
    sampleBytesPerSec = n / ((performance.now() - t) / 1000);
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
    bytesPerSec: (c.batchSize * c.seqLength) / median,
    medianStepSec: median,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    // The wasm heap only grows, so its size now is its peak (of the 4 GB it may reach).
    wasmHeapMb: info.name === 'wasm' ? (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength / 2 ** 20 : undefined,
    trainGflops: trainFlops(c, vocab.size) / median / 1e9,
    matmulPeakGflops: peakGflops,
    sampleBytesPerSec,
    vocab: vocab.size,
  };
  console.log(JSON.stringify(result));
}

function runChild(name: ConfigName, what: 'ours' | 'layers'): Record<string, number | string | undefined> | undefined {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, '--child', name, '--what', what, ...process.argv.slice(2)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').at(-1)!);
  } catch (e) {
    console.error(`bench: ${name}/${what} failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

function runTorch(name: ConfigName, trainFile: string): Record<string, number> | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
  } catch {
    console.error('bench: PyTorch not available (/usr/bin/python3 -c "import torch" failed): no comparison');
    return undefined;
  }
  const c = CONFIGS[name];
  const steps = Number(flag(name === 'S' ? 'steps-s' : 'steps-m', name === 'S' ? '20' : '6')) + 2;
  const out = execFileSync('/usr/bin/python3', [path.join(__dirname, 'torch_charlstm.py'), trainFile, trainFile, '--bench', '--hidden', String(c.hiddenSize), '--layers', String(c.numLayers), '--batch', String(c.batchSize), '--seq', String(c.seqLength), '--steps', String(steps), '--sample-bytes', flag('sample', '1000')], {
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '2', OMP_NUM_THREADS: '2', GOMP_SPINCOUNT: '0' },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

/**
 * PyTorch's speed on this machine varies between processes by up to 1.5× (S: 26k–40k bytes/s),
 * so it runs --torch-runs times (default 2) and its best training and sampling speeds count:
 * the ratios are against PyTorch at its best.
 */
function bestTorch(name: ConfigName, trainFile: string): Record<string, number> | undefined {
  const runs = Math.max(1, Number(flag('torch-runs', '2')));
  let best: Record<string, number> | undefined;
  for (let i = 0; i < runs; i++) {
    const r = runTorch(name, trainFile);
    if (!r) return best;
    if (!best) best = r;
    else {
      best.bytes_per_s = Math.max(best.bytes_per_s, r.bytes_per_s);
      if (r.sample_bytes_per_s) best.sample_bytes_per_s = Math.max(best.sample_bytes_per_s ?? 0, r.sample_bytes_per_s);
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
  const names = flag('configs', 'S,M').split(',') as ConfigName[];
  const summary: Record<string, unknown> = {};
  const rows: string[][] = [['config', 'impl', 'bytes/s', 'ratio vs torch', 'peak RSS MB', 'wasm heap MB', '% of matmul peak', 'sample B/s']];
  for (const name of names) {
    const ours = runChild(name, 'ours');
    const torch = bestTorch(name, trainFile);
    const layers = name === 'S' && !process.argv.includes('--no-layers') ? runChild(name, 'layers') : undefined;
    if (!ours) continue;
    summary.backend = ours.backend;
    summary.backendDetail = ours.backendDetail;
    const bps = ours.bytesPerSec as number;
    const entry: Record<string, unknown> = {
      bytesPerSec: Math.round(bps),
      torchBytesPerSec: torch ? Math.round(torch.bytes_per_s) : null,
      ratio: torch ? +(bps / torch.bytes_per_s).toFixed(3) : null,
      peakRssMb: Math.round(ours.peakRssMb as number),
      wasmHeapMb: ours.wasmHeapMb === undefined ? undefined : Math.round(ours.wasmHeapMb as number),
      torchPeakRssMb: torch ? Math.round(torch.peak_rss_mb) : null,
      matmulPeakFraction: +((ours.trainGflops as number) / (ours.matmulPeakGflops as number)).toFixed(3),
      matmulPeakGflops: +(ours.matmulPeakGflops as number).toFixed(1),
    };
    if (layers) {
      entry.layersBytesPerSec = Math.round(layers.bytesPerSec as number);
      entry.speedupVsLayers = +(bps / (layers.bytesPerSec as number)).toFixed(2);
    }
    summary[name] = entry;
    const sample = (summary.sample ??= {}) as Record<string, unknown>;
    sample[name] = { bytesPerSec: Math.round(ours.sampleBytesPerSec as number), torchBytesPerSec: torch?.sample_bytes_per_s ? Math.round(torch.sample_bytes_per_s) : null, ratio: torch?.sample_bytes_per_s ? +((ours.sampleBytesPerSec as number) / torch.sample_bytes_per_s).toFixed(3) : null };
    rows.push([name, `ours (${String(ours.backendDetail).replace('@tensorflow/tfjs-backend-', '')})`, String(Math.round(bps)), entry.ratio === null ? '-' : String(entry.ratio), String(entry.peakRssMb), String(entry.wasmHeapMb ?? '-'), `${(100 * (entry.matmulPeakFraction as number)).toFixed(0)}%`, String(Math.round(ours.sampleBytesPerSec as number))]);
    if (torch) rows.push([name, `torch ${torch.threads} threads`, String(Math.round(torch.bytes_per_s)), '1', String(Math.round(torch.peak_rss_mb)), '-', '-', String(Math.round(torch.sample_bytes_per_s ?? 0))]);
    if (layers) rows.push([name, `tf.layers.lstm (${layers.backend})`, String(Math.round(layers.bytesPerSec as number)), torch ? String(+((layers.bytesPerSec as number) / torch.bytes_per_s).toFixed(3)) : '-', String(Math.round(layers.peakRssMb as number)), '-', '-', '-']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((v, i) => v.padEnd(widths[i])).join('  '));
  console.log(JSON.stringify(summary));
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
