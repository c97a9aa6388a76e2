// A results file of one JSON object per line, appended atomically: under a lock file, the whole
// file plus the new line is written to a temporary file and renamed over the old one, so a reader
// (or a run killed at any instant) only ever sees complete lines, and two runners on one file
// never lose each other's lines.
import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive, writeAtomic } from '@softpool/train';

export { writeAtomic };

export class ResultsError extends Error {}

/** Parses a results file; a line that is not a JSON object names the file and line. */
export function parseLines<T>(text: string, file: string): T[] {
  const out: T[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new ResultsError(`${file}:${i + 1}: not a JSON line; remove or repair it`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new ResultsError(`${file}:${i + 1}: expected a JSON object`);
    out.push(v as T);
  }
  return out;
}

/** Every record of `file` ([] when it does not exist yet). */
export async function readResults<T>(file: string): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ResultsError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  return parseLines<T>(text, file);
}

/**
 * Runs `fn` holding the lock file `path` (created exclusively, holding our pid). A lock whose
 * owner died is taken over; a live one is waited for.
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const h = await open(path, 'wx');
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(await readFile(path, 'utf8').catch(() => ''));
      // An empty file is a lock being created right now: only a stale one is old.
      const old = await stat(path).then(
        (s) => Date.now() - s.mtimeMs > 5000,
        () => false,
      );
      if ((owner > 0 && !processAlive(owner)) || (!(owner > 0) && old)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() - t0 > timeoutMs) throw new ResultsError(`${path} is held by process ${owner}`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

/** Appends one record as a line of `file`, atomically. */
export async function appendResult(file: string, record: object): Promise<void> {
  await withLock(`${file}.lock`, async () => {
    let old = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    if (old !== '' && !old.endsWith('\n')) old += '\n';
    await writeAtomic(file, `${old}${JSON.stringify(record)}\n`);
  });
}
