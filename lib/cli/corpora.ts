/**
 * `unreasonable corpora` (list the named corpora and whether they load offline now) and
 * `unreasonable corpora fetch NAME` (download tinyshakespeare into the cache; the others
 * come with npm packages or the system and are only checked).
 */
import { GlobalOptions } from './train';
import { Log } from './util';
import { cacheDir, CORPORA } from '../data/corpus';
import { UsageError } from '../util/errors';

export function runCorporaList(): number {
  const width = Math.max(...CORPORA.map((c) => c.name.length));
  for (const c of CORPORA) {
    process.stdout.write(`${c.name.padEnd(width)}  ${c.available() ? 'available ' : 'not cached'}  ${c.description}\n`);
  }
  process.stdout.write(`cache: ${cacheDir()} (set UNREASONABLE_DATA_DIR to move it)\n`);
  return 0;
}

export async function runCorporaFetch(name: string, global: GlobalOptions): Promise<number> {
  const c = CORPORA.find((x) => x.name === name);
  if (!c) throw new UsageError(`unknown corpus "${name}": use one of ${CORPORA.map((x) => x.name).join(', ')}`);
  const corpus = await c.load();
  new Log(Boolean(global.quiet)).info(`${corpus.name}: ${corpus.data.length} bytes (${corpus.source})`);
  return 0;
}
