// The debug switch: SOFTPOOL_DEBUG=dispatch (or =all, or a comma list) prints to stderr.

function readEnv(): string {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.SOFTPOOL_DEBUG ?? '';
}

const topics = new Set(
  readEnv()
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** True when SOFTPOOL_DEBUG names `topic` (or `all`). */
export function debugEnabled(topic: string): boolean {
  return topics.has(topic) || topics.has('all');
}

/** Turns a debug topic on or off at run time (tests, playgrounds). */
export function setDebug(topic: string, on: boolean): void {
  if (on) topics.add(topic);
  else topics.delete(topic);
}

/** Writes one debug line to stderr (never stdout: library output must not mix with the app's). */
export function debugLog(topic: string, message: string): void {
  const proc = (globalThis as { process?: { stderr?: { write(s: string): void } } }).process;
  if (proc?.stderr) proc.stderr.write(`[softpool:${topic}] ${message}\n`);
  else console.warn(`[softpool:${topic}] ${message}`);
}
