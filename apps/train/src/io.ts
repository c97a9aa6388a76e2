// Files of a run: an output directory that is checked before any work, and atomic writes (a
// temporary file renamed over the target) so nothing the user owns is ever half-written.
import { mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export class OutputError extends Error {}

/** Creates `dir` if needed and proves it is writable; returns a cleanup for failed runs. */
export async function prepareOutDir(
  dir: string,
): Promise<{ created: boolean; cleanup: () => Promise<void> }> {
  let created = false;
  try {
    created = (await mkdir(dir, { recursive: true })) !== undefined;
    const probe = join(dir, `.write-test-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
  } catch (e) {
    if (created) await rmdir(dir).catch(() => {});
    throw new OutputError(
      `cannot write to output directory ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  await removeStaleTemporaries(dir);
  return {
    created,
    // Removes the directory again if this run created it and left nothing in it.
    cleanup: async () => {
      if (created) await rmdir(dir).catch(() => {});
    },
  };
}

/** Writes text or bytes atomically (a temporary file in the same directory, then a rename). */
export async function writeAtomic(path: string, text: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Whether process `pid` is running (a lock or temporary file of a dead one can be removed). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Temporary files of writes that were killed mid-way (`<file>.tmp-<pid>-<time>` from checkpoints,
 * `.<time>-<pid>.tmp` from metrics) whose process is gone: nothing will ever rename them.
 */
export async function removeStaleTemporaries(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = /\.tmp-(\d+)-\d+$/.exec(name) ?? /^\.\d+-(\d+)\.tmp$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
      await rm(join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}
