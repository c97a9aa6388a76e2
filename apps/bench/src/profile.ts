// `pnpm bench --profile`: where one call of a case spends its time, per op, from the dispatch
// listener (on the CPU a kernel's dispatch time is its run time; on WebGPU it is only the time
// to record the work). What is left of the wall time is outside the kernels: dispatch, autograd
// recording, allocation, JS.
import * as sp from '@softpool/tensor';
import type { Case } from './cases.js';
import { oursRunner } from './ours.js';

export interface OpShare {
  op: string;
  ms: number;
  calls: number;
}
export interface Profile {
  case: string;
  threads: number;
  callMs: number;
  kernelMs: number;
  ops: OpShare[];
}

/** Medians over `calls` calls (after one warm-up) of the call time and of each op's time per call. */
export async function profileCase(c: Case, backend: string, calls: number): Promise<Profile> {
  const r = await oursRunner(c, backend);
  let current = new Map<string, OpShare>();
  const off = sp.onDispatch((op, _backend, _inputs, ms) => {
    const row = current.get(op) ?? { op, ms: 0, calls: 0 };
    row.ms += ms;
    row.calls++;
    current.set(op, row);
  });
  try {
    await r.run();
    const perCall: Map<string, OpShare>[] = [];
    const wall: number[] = [];
    for (let i = 0; i < calls; i++) {
      current = new Map();
      const t0 = performance.now();
      await r.run();
      wall.push(performance.now() - t0);
      perCall.push(current);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    const names = [...new Set(perCall.flatMap((m) => [...m.keys()]))];
    const ops = names
      .map((op) => ({
        op,
        ms: median(perCall.map((m) => m.get(op)?.ms ?? 0)),
        calls: perCall[0].get(op)?.calls ?? 0,
      }))
      .sort((a, b) => b.ms - a.ms);
    const kernelMs = median(perCall.map((m) => [...m.values()].reduce((s, x) => s + x.ms, 0)));
    return { case: c.id, threads: sp.getNumThreads(), callMs: median(wall), kernelMs, ops };
  } finally {
    off();
    r.dispose();
  }
}

/** The profile as Markdown: the ops taking `top` most time, then the rest and the time outside kernels. */
export function profileTable(p: Profile, top = 12): string {
  const pct = (ms: number) => `${((100 * ms) / p.callMs).toFixed(1)} %`;
  const lines = [
    `\n### Profile: ${p.case} (${p.threads} thread${p.threads === 1 ? '' : 's'})\n`,
    `Median ${p.callMs.toFixed(1)} ms per call: ${p.kernelMs.toFixed(1)} ms in kernels, ${(p.callMs - p.kernelMs).toFixed(1)} ms outside them.\n`,
    '| op | ms per call | calls | share |',
    '|---|---:|---:|---:|',
  ];
  for (const o of p.ops.slice(0, top))
    lines.push(`| ${o.op} | ${o.ms.toFixed(2)} | ${o.calls} | ${pct(o.ms)} |`);
  const rest = p.ops.slice(top).reduce((s, o) => s + o.ms, 0);
  if (p.ops.length > top)
    lines.push(`| ${p.ops.length - top} other ops | ${rest.toFixed(2)} | | ${pct(rest)} |`);
  lines.push(`| outside kernels | ${(p.callMs - p.kernelMs).toFixed(2)} | | ${pct(p.callMs - p.kernelMs)} |`);
  return lines.join('\n');
}
