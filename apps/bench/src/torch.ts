// PyTorch CPU as a peer: python/torch_peer.py runs the same cases under Debian's interpreter with
// the thread count asked for, and reports medians. Optional: where /usr/bin/python3 or its torch
// is missing, every case is skipped with that reason.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Case } from './cases.js';
import type { Timing } from './harness.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../python/torch_peer.py', import.meta.url));

export interface TorchResult {
  case: string;
  timing?: Timing;
  skipped?: string;
}

/** Times every case in PyTorch with `threads` threads; `label` describes the version used. */
export function runTorch(
  cases: Case[],
  options: { threads: number; iters: number; warmup: number; budgetMs: number },
): { results: TorchResult[]; label?: string } {
  const skipAll = (why: string) => ({ results: cases.map((c) => ({ case: c.id, skipped: why })) });
  if (!existsSync(PYTHON)) return skipAll(`unavailable: ${PYTHON} not found (Debian's python3-torch)`);
  const input = JSON.stringify({
    threads: options.threads,
    iters: options.iters,
    warmup: options.warmup,
    budget_s: options.budgetMs / 1000,
    cases,
  });
  const r = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    const last = (r.stderr || r.error?.message || '').trim().split('\n').pop() ?? '';
    return skipAll(
      `unavailable: ${/No module named 'torch'/.test(last) ? 'python3-torch is not installed' : last}`,
    );
  }
  const out = JSON.parse(r.stdout) as {
    version: string;
    threads: number;
    results: ({ case: string; skipped?: string } & Partial<Timing>)[];
  };
  return {
    label: `PyTorch ${out.version}, ${out.threads} threads`,
    results: out.results.map(({ case: id, skipped, ...timing }) =>
      skipped ? { case: id, skipped } : { case: id, timing: timing as Timing },
    ),
  };
}
