// Files of a run: an output directory that is checked before any work, and atomic writes (a
// temporary file renamed over the target) so nothing the user owns is ever half-written.
import { mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
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
  return {
    created,
    // Removes the directory again if this run created it and left nothing in it.
    cleanup: async () => {
      if (created) await rmdir(dir).catch(() => {});
    },
  };
}

/** Writes text atomically. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
