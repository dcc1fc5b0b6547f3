/**
 * The `unreasonable` command line (bin/unreasonable.js runs main()).
 *
 *   unreasonable train   --corpus NAME|PATH --checkpoint DIR [--resume] [model, batch, optimizer flags]
 *   unreasonable sample  --checkpoint DIR [--length 500 --temperature 1 --prime TEXT --seed 0]
 *   unreasonable eval    --checkpoint DIR --text FILE [--json]
 *   unreasonable export  --checkpoint DIR --out DIR2 | --html DIR3
 *   unreasonable corpora [fetch NAME]
 *
 * Exit codes: 0 ok, 1 failure (one line "error: …" on stderr), 2 usage error (bad flag or value),
 * 130 (143) training stopped by Ctrl-C (SIGTERM) after saving a checkpoint.
 * The command modules are loaded only when their command runs, so --help and usage errors are fast.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, CommanderError, Option } from 'commander';
import { intIn, numberIn, nonNegativeInt, oneLine, positiveInt } from './util';
import { UserError } from '../util/errors';
import { DEFAULT_INIT, INIT_NAMES } from '../nn/init';
import type { GlobalOptions, TrainOptions } from './train';
import type { EvalOptions, ExportOptions, SampleOptions } from './model-commands';

const EXIT_CODES = `
Exit codes:
  0    success
  1    failure (one line "error: …" on stderr)
  2    usage error: unknown flag, bad value, conflicting flags
  130  training interrupted by Ctrl-C (143: SIGTERM); a checkpoint was saved, resume with --resume
`;

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** The commander program; `exit` receives each command's exit code. */
export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('unreasonable');
  program
    .description("Karpathy's char-rnn in TypeScript: train byte-level RNN/LSTM/GRU models, sample, evaluate, export.")
    .version(version(), '-V, --version')
    .option('-q, --quiet', 'print nothing on stderr but errors (no backend line, no progress)')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (default: fastest available; env UNREASONABLE_BACKEND)').choices(['tensorflow', 'wasm', 'cpu']))
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(oneLine(s) + '\n'),
    })
    .addHelpText('after', EXIT_CODES);
  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;

  program
    .command('train')
    .description('train a model on a corpus, writing a resumable checkpoint directory (or continue one with --resume)')
    .option('--corpus <name|path>', 'a file, or moby-dick | names | tinyshakespeare | linux (see `corpora`); a --resume reads it from the checkpoint')
    .requiredOption('--checkpoint <dir>', 'checkpoint directory (written atomically)')
    .option('--resume', 'continue the run saved in --checkpoint (on the corpus and --val-frac it recorded)')
    .option('--force', 'start afresh even though --checkpoint holds a checkpoint (replaced at the first save)')
    .option('--force-lock', 'train even though another trainer holds the lock of --checkpoint (it stops at its next save)')
    .addOption(new Option('--model <type>', 'cell type').choices(['rnn', 'lstm', 'gru']).default('lstm'))
    .addOption(new Option('--activation <name>', 'nonlinearity of the vanilla RNN (--model rnn)').choices(['tanh', 'relu', 'gelu']).default('tanh'))
    .option('--layers <n>', 'stacked layers', intIn(1, 64), 2)
    .option('--hidden <n>', 'units per layer', intIn(1, 65536), 128)
    .option('--batch <n>', 'parallel streams per step', intIn(1, 1 << 20), 32)
    .option('--seq <n>', 'time steps per chunk (truncated BPTT length)', intIn(1, 1 << 20), 64)
    .option('--steps <n>', 'optimizer steps (default 1000 unless --epochs is given)', positiveInt)
    .option('--epochs <x>', 'passes over the training data instead of --steps', numberIn(0, Infinity, { minExclusive: true }))
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['rmsprop', 'adam', 'adagrad']).default('rmsprop'))
    .option('--lr <x>', 'learning rate', numberIn(0, Infinity, { minExclusive: true }), 2e-3)
    .option('--dropout <p>', 'dropout between layers and before the decoder', numberIn(0, 1, { maxExclusive: true }), 0)
    .option('--weight-drop <p>', "weight drop: the fraction of each layer's recurrent weights dropped per training chunk", numberIn(0, 1, { maxExclusive: true }), 0)
    .addOption(new Option('--init <name>', 'weight initialisation: torch = uniform ±1/√hidden, forget-gate bias 0 (PyTorch); char-rnn = uniform ±0.08, forget-gate bias 1 (Karpathy)').choices([...INIT_NAMES]).default(DEFAULT_INIT))
    .option('--forget-bias <x>', "LSTM forget-gate bias at init (default: the --init's, 0 or 1)", numberIn(-100, 100))
    .option('--clip <x>', 'gradient clipping threshold (0 = off)', numberIn(0, Infinity), 5)
    .addOption(new Option('--clip-mode <mode>', 'clip the global norm or each value (char-rnn)').choices(['norm', 'value']).default('norm'))
    .option('--val-frac <x>', 'fraction of the corpus held out for validation (its end)', numberIn(0, 1, { maxExclusive: true }), 0.05)
    .option('--seed <n>', 'seed of the initial weights and dropout', intIn(0, 0xffffffff), 0)
    .option('--eval-every <n>', 'validate every n steps (0 = only at the end)', nonNegativeInt, 200)
    .option('--patience <n>', 'stop after n validations without improvement (0 = never)', nonNegativeInt, 0)
    .option('--checkpoint-every <n>', 'also save every n steps (0 = at improving validations, the end, and Ctrl-C)', nonNegativeInt, 0)
    .option('--log-every <n>', 'without a terminal: a progress line every n steps', positiveInt, 100)
    .option('--log-seconds <s>', 'without a terminal: also a progress line whenever s seconds passed since the last', numberIn(0, Infinity, { minExclusive: true }), 3)
    .option('--full-vocab', 'use all 256 byte values instead of the bytes present in the corpus')
    .addHelpText(
      'after',
      `
A resumed run keeps the model and batch layout: --model, --activation, --layers, --hidden, --dropout, --weight-drop, --init,
--forget-bias, --batch, --seq, --optimizer, --seed, --full-vocab must match the checkpoint if given (else exit 2); --steps,
--epochs, --lr, --clip, --clip-mode, --eval-every, --patience, --checkpoint-every override.
Ctrl-C stops after the current step, saves, and exits 130; a second Ctrl-C exits at once
(the checkpoint on disk stays the last complete one).
One trainer per --checkpoint directory: a second one is refused (exit 1) while the first runs;
a lock left by a crashed trainer is detected and taken over; --force-lock takes a live one.
Readers (sample, eval, export) may load the directory at any time during training.

Example:
  unreasonable train --corpus tinyshakespeare --checkpoint runs/shakespeare --optimizer adam --steps 2000
`,
    )
    .action(async (opts: TrainOptions, cmd: Command) => {
      const { runTrain } = require('./train') as typeof import('./train');
      const given = (k: keyof TrainOptions) => cmd.getOptionValueSource(k) === 'cli';
      exit(await runTrain(opts, given, globals(cmd)));
    });

  program
    .command('sample')
    .description('generate bytes from a checkpoint (ours or PyTorch) to stdout, streaming')
    .option('--checkpoint <dir>', 'checkpoint directory')
    .option('--pretrained <name>', 'a shipped model instead of --checkpoint (see `unreasonable models`)')
    .option('--length <n>', 'bytes to generate', intIn(0, 1e9), 500)
    .option('--temperature <t>', 'softmax temperature (0 = always the most likely byte)', numberIn(0, 100), 1)
    .option('--prime <text>', 'text to start from (UTF-8); default a newline')
    .option('--seed <n>', 'seed of the sampler', intIn(0, 0xffffffff), 0)
    .option('--skip-unknown', 'drop prime bytes outside the vocabulary instead of failing')
    .option('--no-echo-prime', 'print only the continuation, not the prime before it')
    .addHelpText('after', '\nExample:\n  unreasonable sample --checkpoint runs/shakespeare --prime "ROMEO:" --temperature 0.8 --length 1000\n  unreasonable sample --pretrained shakespeare --prime "ROMEO:" --temperature 0.8\n')
    .action(async (opts: SampleOptions, cmd: Command) => {
      const { runSample } = require('./model-commands') as typeof import('./model-commands');
      exit(await runSample(opts, globals(cmd)));
    });

  program
    .command('eval')
    .description('loss of a checkpoint (ours or PyTorch) on a text file as one stream (every byte predicted from all before it), in nats/byte and bits/byte')
    .option('--checkpoint <dir>', 'checkpoint directory')
    .option('--pretrained <name>', 'a shipped model instead of --checkpoint (see `unreasonable models`)')
    .requiredOption('--text <file>', 'the text to score')
    .option('--json', 'print one JSON line {"loss": nats/byte, "bpc": bits/byte, "bytes": n}')
    .option('--batch <n>', 'parallel streams, each warmed up on the bytes before its stretch (1 = the exact one-stream loop)', intIn(1, 1 << 20), 32)
    .option('--warmup <n>', 'bytes each stream runs over, unscored, before its stretch', intIn(0, 1 << 30), 1024)
    .option('--seq <n>', 'steps per forward call', intIn(1, 1 << 20), 100)
    .option('--skip-unknown', 'drop bytes outside the vocabulary instead of failing')
    .action(async (opts: EvalOptions, cmd: Command) => {
      const { runEval } = require('./model-commands') as typeof import('./model-commands');
      exit(await runEval(opts, globals(cmd)));
    });

  program
    .command('export')
    .description('write an LSTM/RNN checkpoint as a TensorFlow.js LayersModel (model.json, weights.bin, vocab.json) and/or a web page that generates text')
    .option('--checkpoint <dir>', 'checkpoint directory (ours or PyTorch)')
    .option('--pretrained <name>', 'a shipped model instead of --checkpoint (see `unreasonable models`)')
    .option('--out <dir>', 'LayersModel output directory (new, empty, or an earlier export)')
    .option('--html <dir>', 'standalone web page directory (new, empty, or an earlier page): open its index.html, works offline')
    .option('--prime <text>', "the page's initial prime text")
    .addHelpText('after', '\nLoad the LayersModel with tf.loadLayersModel(".../model.json"); input one-hot [batch, time, vocab], output next-byte probabilities.\n' +
      'The page (--html) samples like `unreasonable sample`: the same seed, temperature, prime and length give the same text.\n')
    .action(async (opts: ExportOptions, cmd: Command) => {
      const { runExport } = require('./model-commands') as typeof import('./model-commands');
      exit(await runExport(opts, globals(cmd)));
    });

  program
    .command('models')
    .description('list the shipped models (models/): corpus, size, held-out loss, best units')
    .action(() => {
      const { runModels } = require('./model-commands') as typeof import('./model-commands');
      exit(runModels());
    });

  const corpora = program
    .command('corpora')
    .description('list the named corpora and whether they are available offline')
    .action(() => {
      const { runCorporaList } = require('./corpora') as typeof import('./corpora');
      exit(runCorporaList());
    });
  corpora
    .command('fetch')
    .description('download a corpus into the cache (tinyshakespeare; sha256-verified)')
    .argument('<name>', 'corpus name')
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { runCorporaFetch } = require('./corpora') as typeof import('./corpora');
      exit(await runCorporaFetch(name, globals(cmd)));
    });
  return program;
}

/** One line for any error: UserError's own message, anything else as "internal". */
export function describeError(e: unknown): { line: string; code: number } {
  if (e instanceof UserError) return { line: `error: ${oneLine(e.message)}`, code: e.exitCode };
  const msg = e instanceof Error ? e.message : String(e);
  return { line: `error: internal: ${oneLine(msg) || (e as Error)?.name || 'unknown error'}`, code: 1 };
}

function report(e: unknown): number {
  const { line, code } = describeError(e);
  process.stderr.write(line + '\n');
  if (process.env.UNREASONABLE_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return code;
}

/** Run the CLI; resolves to the exit code (bin/unreasonable.js sets it). */
export async function main(argv: string[] = process.argv): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0); // e.g. `unreasonable sample | head`
  });
  const fatal = (e: unknown) => process.exit(report(e));
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed its message (folded to one line) or the help text.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return e.exitCode === 0 ? 0 : 2;
      return 2;
    }
    return report(e);
  }
}
