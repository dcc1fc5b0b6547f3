/**
 * The PyTorch that `npm run bench` and `npm run compare-torch` compare with: the fastest one
 * available, since that is what a user who wants speed runs.
 *
 * Candidates: $UNREASONABLE_PYTHON if set (only it is used, but the defaults are still probed
 * so that a slow choice can be named as such), else `python3` then `/usr/bin/python3`. Each is
 * probed with scripts/torch_probe.py: torch version, BLAS, and the GFLOP/s of a float32
 * [512,1024]·[1024,2048] matmul on the threads the comparison uses. The fastest wins.
 *
 * A speed ratio against a PyTorch whose matmul is broken-slow says nothing about us (Debian's
 * torch 1.13 runs OpenBLAS's generic C kernel: ~2 GFLOP/s where MKL does ~95 on the same CPU),
 * so `ratioOk` is false, with the reason, when the peer's matmul is below MIN_GFLOPS or below
 * MIN_FRACTION of the best candidate's.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

/** Below this a CPU matmul is a fallback kernel (any SIMD BLAS of the last decade is far above). */
export const MIN_GFLOPS = 5;
/** A peer slower than this share of the best candidate's matmul is not the PyTorch a user would run. */
export const MIN_FRACTION = 0.25;

export interface TorchProbe {
  /** The Python command as given ("python3", "/usr/bin/python3", $UNREASONABLE_PYTHON). */
  python: string;
  /** Its sys.executable. */
  executable?: string;
  pythonVersion?: string;
  torch?: string;
  /** BLAS_INFO of torch's build ("mkl", "open", "generic", …). */
  blas?: string;
  mkl?: boolean;
  /** Threads the matmul ran on. */
  threads?: number;
  /** Best of a few [512,1024]·[1024,2048] float32 matmuls. */
  matmulGflops?: number;
  /** Why this candidate has no usable torch. */
  error?: string;
}

export interface PeerChoice {
  /** The PyTorch to compare with (undefined: none has torch). */
  peer?: TorchProbe;
  /** Whether a speed ratio against it means anything. */
  ratioOk: boolean;
  /** One line per reason a ratio is refused, or why there is no peer. */
  why: string[];
  /** Every candidate probed. */
  probes: TorchProbe[];
}

/** The environment that pins torch's threads (OpenMP / OpenBLAS / MKL) to `threads`. */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, GOMP_SPINCOUNT: '0' };
}

/** Python commands to try, in order. */
export function candidates(env: NodeJS.ProcessEnv = process.env): { forced?: string; list: string[] } {
  const defaults = ['python3', '/usr/bin/python3'];
  const forced = env.UNREASONABLE_PYTHON?.trim() || undefined;
  return { forced, list: forced ? [forced, ...defaults.filter((d) => d !== forced)] : defaults };
}

/** Run scripts/torch_probe.py under `python`. */
export function probeTorch(python: string, threads: number): TorchProbe {
  try {
    const out = execFileSync(python, [path.join(__dirname, 'torch_probe.py'), '--threads', String(threads)], { encoding: 'utf8', env: torchEnv(threads), stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    return { python, executable: r.python, pythonVersion: r.python_version, torch: r.torch, blas: r.blas, mkl: r.mkl, threads: r.threads, matmulGflops: r.matmul_gflops };
  } catch (e) {
    const err = e as { stdout?: string; code?: string; message: string };
    let why = err.code === 'ENOENT' ? 'not found' : err.message.split('\n')[0];
    try {
      why = JSON.parse(String(err.stdout).trim().split('\n').at(-1)!).error ?? why;
    } catch {
      // not the probe's JSON: keep the process error
    }
    return { python, error: why };
  }
}

/** The choice, from probes already made (`forced`: the $UNREASONABLE_PYTHON command, if any). */
export function choosePeer(probes: TorchProbe[], forced?: string): PeerChoice {
  const usable = probes.filter((p) => p.error === undefined && p.matmulGflops !== undefined);
  const best = usable.reduce<TorchProbe | undefined>((b, p) => (!b || p.matmulGflops! > b.matmulGflops! ? p : b), undefined);
  const peer = forced ? usable.find((p) => p.python === forced) : best;
  if (!peer) {
    const tried = probes.map((p) => `${p.python}: ${p.error ?? 'no matmul measured'}`).join('; ');
    return { ratioOk: false, why: [forced ? `UNREASONABLE_PYTHON=${forced} has no usable PyTorch (${tried})` : `no PyTorch found (${tried})`], probes };
  }
  const why: string[] = [];
  const g = peer.matmulGflops!;
  if (g < MIN_GFLOPS) why.push(`its matmul runs at ${g.toFixed(1)} GFLOP/s, below ${MIN_GFLOPS} GFLOP/s: a fallback BLAS kernel (BLAS ${peer.blas ?? 'unknown'}), not the PyTorch a user who wants speed runs`);
  if (best && best !== peer && g < MIN_FRACTION * best.matmulGflops!) {
    why.push(`its matmul (${g.toFixed(1)} GFLOP/s) is below ${MIN_FRACTION} × that of ${best.python}'s PyTorch ${best.torch} (${best.matmulGflops!.toFixed(1)} GFLOP/s): unset UNREASONABLE_PYTHON or point it at the faster one`);
  }
  return { peer, ratioOk: why.length === 0, why, probes };
}

/** Probe the candidates (see `candidates`) and choose. */
export function findTorchPeer(threads: number, env: NodeJS.ProcessEnv = process.env): PeerChoice {
  const { forced, list } = candidates(env);
  return choosePeer(list.map((python) => probeTorch(python, threads)), forced);
}

/** "PyTorch 2.13.0+cpu (python3 → /root/…/python3, Python 3.11.7; BLAS mkl): matmul 95.5 GFLOP/s on 2 threads". */
export function describeProbe(p: TorchProbe): string {
  if (p.error !== undefined) return `${p.python}: no PyTorch (${p.error})`;
  const where = p.executable && p.executable !== p.python ? `${p.python} → ${p.executable}` : p.python;
  return `PyTorch ${p.torch} (${where}, Python ${p.pythonVersion}; BLAS ${p.blas}${p.mkl ? ', MKL' : ''}): matmul [512,1024]·[1024,2048] ${p.matmulGflops!.toFixed(1)} GFLOP/s on ${p.threads} thread${p.threads === 1 ? '' : 's'}`;
}

/** The lines a script prints about its peer: every candidate, the choice, and any refusal. */
export function describeChoice(c: PeerChoice): string[] {
  const lines = c.probes.map((p) => `  candidate ${describeProbe(p)}`);
  if (!c.peer) return [...lines, `PyTorch peer: none — ${c.why.join('; ')}`];
  lines.push(`PyTorch peer: ${c.peer.python} (${c.peer.torch})`);
  for (const w of c.why) lines.push(`  no speed ratio against it: ${w}`);
  return lines;
}
