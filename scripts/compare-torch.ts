/**
 * Learning-quality check against the PyTorch reference (issue: "a 2×128 LSTM, batch 32, seq 64,
 * Adam 2e-3, 1000 steps on tinyshakespeare reaches a validation loss no worse than PyTorch's
 * nn.LSTM + 0.03 nats"). Trains ours, and PyTorch (the fastest one available, see
 * scripts/torch-peer.ts; UNREASONABLE_PYTHON chooses it), on the same 0.95/0.05 split; both
 * evaluate the whole validation text as one stream from a zero state.
 * Usage: npm run compare-torch [-- --steps 1000 --init torch|char-rnn --seed 0 --torch-script PATH]
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_INIT, initConfig, InitName, INIT_NAMES } from '../lib/nn/init';
import { describeChoice, findTorchPeer, torchEnv } from './torch-peer';
import { ByteVocab, CharModel, describeBackend, evaluateLoss, initBackend, loadCorpus, splitCorpus, toBits, Trainer } from '../lib';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main() {
  const steps = Number(arg('steps', '1000'));
  const info = await initBackend();
  console.log(describeBackend(info));
  const corpus = await loadCorpus(arg('corpus', 'tinyshakespeare'));
  const split = splitCorpus(corpus.data);
  const vocab = ByteVocab.fromData(corpus.data);
  const cfg = { batchSize: 32, seqLength: 64, steps, optimizer: 'adam' as const, learningRate: 2e-3, gradClip: 5, clipMode: 'norm' as const, lrDecayAfter: 1e9 };
  // --init torch: nn.LSTM's own initialisation (uniform ±1/√hidden, forget-gate bias 0), i.e. the same
  // settings as the PyTorch run; --init char-rnn: uniform ±0.08, forget-gate bias 1 (lib/nn/init.ts).
  const init = arg('init', DEFAULT_INIT) as InitName;
  if (!INIT_NAMES.includes(init)) throw new Error(`--init must be ${INIT_NAMES.join(' or ')}, got ${init}`);
  const fb = arg('forget-bias', '');
  const base = initConfig({ init, hiddenSize: 128, modelType: 'lstm', forgetBias: fb === '' ? undefined : Number(fb) });
  const initScale = Number(arg('init-scale', String(base.initScale)));
  const forgetBias = base.forgetBias!;
  const model = new CharModel({ modelType: 'lstm', vocabSize: vocab.size, hiddenSize: 128, numLayers: 2, dropout: 0, initScale, forgetBias }, Number(arg('seed', '0')));
  const t0 = Date.now();
  const tr = new Trainer(model, vocab, { train: vocab.encode(split.train) }, {
    ...cfg,
    onProgress: (p) => {
      if (p.step % 100 === 0 || p.event === 'done') console.log(`step ${p.step} loss ${p.loss.toFixed(4)} ${p.bytesPerSec.toFixed(0)} B/s`);
    },
  });
  const r = await tr.run();
  const trainSec = (Date.now() - t0) / 1000;
  const val = evaluateLoss(model, vocab.encode(split.val), { batchSize: 1, seqLength: 64 });
  const ours = { impl: 'unreasonable', backend: info.name, steps, init, initScale, forgetBias, val_loss: val, val_bpc: toBits(val), train_loss_last50: r.history.loss.slice(-50).reduce((a, b) => a + b, 0) / Math.min(50, r.history.loss.length), seconds: trainSec };
  console.log(JSON.stringify(ours));
  const script = arg('torch-script', path.resolve(__dirname, 'torch_charlstm.py'));
  let torch: { val_loss: number; train_chars_per_s: number } | undefined;
  const choice = findTorchPeer(2);
  for (const line of describeChoice(choice)) console.log(line);
  try {
    if (!choice.peer) throw new Error(choice.why.join('; '));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cmp-'));
    fs.writeFileSync(path.join(dir, 'train.txt'), split.train);
    fs.writeFileSync(path.join(dir, 'val.txt'), split.val);
    const out = execFileSync(choice.peer.python, [script, path.join(dir, 'train.txt'), path.join(dir, 'val.txt'), '--steps', String(steps), '--threads', '2'], {
      env: torchEnv(2),
      encoding: 'utf8',
    });
    torch = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(JSON.stringify(torch));
  } catch (e) {
    console.log(`PyTorch comparison skipped: ${(e as Error).message.split('\n')[0]}`);
  }
  if (torch) {
    const diff = val - torch.val_loss;
    console.log(`validation loss: ours ${val.toFixed(4)} vs PyTorch ${torch.val_loss.toFixed(4)} nats/byte (diff ${diff >= 0 ? '+' : ''}${diff.toFixed(4)}; target ≤ +0.03)`);
    if (diff > 0.03) process.exitCode = 1;
    const speed = `training speed: ours ${(steps * cfg.batchSize * cfg.seqLength / trainSec).toFixed(0)} B/s, PyTorch ${torch.train_chars_per_s.toFixed(0)} B/s`;
    console.log(choice.ratioOk ? `${speed} (ratio ${((steps * cfg.batchSize * cfg.seqLength) / trainSec / torch.train_chars_per_s).toFixed(3)})` : `${speed} (no ratio: ${choice.why.join('; ')})`);
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
