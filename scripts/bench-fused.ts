/**
 * `npm run bench-fused`: the fused LSTM (lib/nn/lstm-fused.ts) against the kernel path it
 * replaces, in one process: training steps alternate between the two (setFusedLstm), so both
 * see the same machine state; prints the median step time of each and their ratio.
 *
 * Usage: npm run bench-fused [-- --configs S,M --steps 5]
 *   S: 2×128 LSTM, batch 32, seq 64      M: 2×512 LSTM, batch 100, seq 100 (as npm run bench)
 */
import * as L from '../lib/index';

const CONFIGS: Record<string, { hiddenSize: number; batchSize: number; seqLength: number; steps: number }> = {
  S: { hiddenSize: 128, batchSize: 32, seqLength: 64, steps: 15 },
  M: { hiddenSize: 512, batchSize: 100, seqLength: 100, steps: 3 },
};

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const info = await L.initBackend();
  console.log(L.describeBackend(info));
  if (!L.fusedLstm(128)) {
    console.error('bench-fused: the fused LSTM needs the wasm backend');
    process.exit(1);
  }
  const corpus = await L.loadCorpus('moby-dick');
  const vocab = L.ByteVocab.fromData(corpus.data);
  const ids = vocab.encode(corpus.data);
  for (const name of (flag('configs') ?? 'S,M').split(',')) {
    const c = CONFIGS[name];
    if (!c) {
      console.error(`bench-fused: unknown config "${name}" (S or M)`);
      process.exit(1);
    }
    const steps = Number(flag('steps') ?? c.steps);
    const model = new L.CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: c.hiddenSize, numLayers: 2, dropout: 0 }, 0);
    const tr = new L.Trainer(model, vocab, { train: ids }, { batchSize: c.batchSize, seqLength: c.seqLength, steps: 2 * steps + 2, optimizer: 'adam', learningRate: 2e-3 });
    const times: Record<'fused' | 'kernels', number[]> = { fused: [], kernels: [] };
    for (let r = 0; r <= steps; r++) {
      for (const arm of ['fused', 'kernels'] as const) {
        L.setFusedLstm(arm === 'fused');
        const t0 = performance.now();
        tr.trainStep();
        if (r > 0) times[arm].push(performance.now() - t0); // round 0 warms both up
      }
    }
    L.setFusedLstm(true);
    model.dispose();
    const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const f = median(times.fused), k = median(times.kernels);
    console.log(`${name}: fused ${f.toFixed(1)} ms a step, kernel path ${k.toFixed(1)} ms: ${(k / f).toFixed(2)}× (median of ${steps})`);
  }
}

main();
