// `pnpm bench`: softpool against TensorFlow.js and PyTorch in one run. Prints Markdown tables and
// writes a JSON file with the machine information. `--smoke` runs tiny sizes once (CI). The CPU
// backend runs every case with each thread count of `--threads` (default 1 and all cores).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as sp from '@softpool/tensor';
import { allCases, type Case, poolBytes } from './cases.js';
import { copyBandwidth, measure, type Timing } from './harness.js';
import { measureOurs, measureOursThreads } from './ours.js';
import { profileCase, profileTable } from './profile.js';
import { PEERS, peerPeakBytes, peerRunner, tfjsAdapter, usePeer } from './tfjs.js';
import { runTorch } from './torch.js';

interface Result {
  case: string;
  kind: Case['kind'];
  impl: string;
  timing?: Timing;
  peakBytes?: number;
  skipped?: string;
  gflops?: number;
  gbps?: number;
  imagesPerSecond?: number;
}

const { values } = parseArgs({
  options: {
    smoke: { type: 'boolean' },
    case: { type: 'string' },
    backends: { type: 'string' },
    peers: { type: 'string' },
    iters: { type: 'string' },
    budget: { type: 'string' },
    threads: { type: 'string' },
    profile: { type: 'boolean' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`Usage: pnpm bench [--smoke] [--case TEXT] [--backends cpu,webgpu] [--threads 1,N] [--profile]
                  [--peers tfjs-cpu,tfjs-wasm,tfjs-webgpu,pytorch-cpu|none] [--iters N] [--budget SECONDS] [--json FILE]
--threads: CPU thread counts to run (default: 1 and ${sp.getNumThreads()}, this machine's); the largest
           is the reference column, PyTorch gets as many.
--profile: instead of timing against peers, print where a call of each matching case spends its
           time, per op (with each thread count, on the first of --backends).\n`);
  process.exit(0);
}
const ALL_PEERS = [...PEERS, 'pytorch-cpu'] as const;
type AnyPeer = (typeof ALL_PEERS)[number];
function usage(message: string): never {
  process.stderr.write(`pnpm bench: ${message} (see --help)\n`);
  process.exit(2);
}
const smoke = values.smoke === true;
const iters = smoke ? 1 : Number(values.iters ?? 10);
const budgetMs = 1000 * Number(values.budget ?? (smoke ? 5 : 20));
// `--case` matches ids containing the text; `a|b` matches either.
const filters = (values.case ?? '').split('|').filter(Boolean);
const ourBackends = (values.backends ?? 'cpu').split(',').filter(Boolean);
const peers = (values.peers ?? ALL_PEERS.join(',')).split(',').filter((p) => p && p !== 'none') as AnyPeer[];
for (const p of peers) if (!ALL_PEERS.includes(p)) usage(`unknown peer ${p}; one of ${ALL_PEERS.join(', ')}`);
const threadCounts = [...new Set((values.threads ?? `1,${sp.getNumThreads()}`).split(',').map(Number))].sort(
  (a, b) => a - b,
);
for (const t of threadCounts)
  if (!Number.isInteger(t) || t < 1 || t > 256)
    usage(`--threads takes integers from 1 to 256, got ${values.threads}`);
const maxThreads = threadCounts[threadCounts.length - 1];
/** The CPU column with fewer threads than the reference is named after its count. */
const cpuImpl = (t: number) => (t === maxThreads ? 'softpool-cpu' : `softpool-cpu-${t}t`);
const base = process.env.INIT_CWD ?? process.cwd();
const jsonPath = resolve(
  base,
  values.json ??
    `bench-results/bench-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}${smoke ? '-smoke' : ''}.json`,
);

const out = (s: string) => process.stdout.write(`${s}\n`);
const cases = allCases(smoke).filter((c) => !filters.length || filters.some((f) => c.id.includes(f)));
const results: Result[] = [];
const bandwidth = copyBandwidth(smoke ? 8 << 20 : 64 << 20);
let ourAdapter: string | undefined;
let torchLabel: string | undefined;

function derived(c: Case, t: Timing): Partial<Result> {
  if (c.kind === 'matmul') return { gflops: (2 * c.n ** 3) / (t.median * 1e6) };
  if (c.kind === 'pool') return { gbps: poolBytes(c) / (t.median * 1e6) };
  if (c.kind === 'train') return { imagesPerSecond: c.batch / (t.median / 1000) };
  return {};
}

async function runOurs(backend: string): Promise<void> {
  if (backend === 'cpu') {
    for (const c of cases) {
      try {
        const byCount = await measureOursThreads(c, threadCounts, {
          iters,
          warmup: smoke ? 0 : 1,
          budgetMs,
          peak: !smoke,
        });
        for (const [i, { timing, peakBytes }] of byCount.entries()) {
          const impl = cpuImpl(threadCounts[i]);
          results.push({ case: c.id, kind: c.kind, impl, timing, peakBytes, ...derived(c, timing) });
        }
      } catch (e) {
        for (const t of threadCounts)
          results.push({
            case: c.id,
            kind: c.kind,
            impl: cpuImpl(t),
            skipped: `error: ${(e as Error).message.split('\n')[0]}`,
          });
      }
    }
    sp.setNumThreads(maxThreads);
    return;
  }
  try {
    await import('@softpool/webgpu' as string);
    await sp.initBackend(backend);
    ourAdapter = (sp.getBackend(backend) as unknown as { adapterDescription?: string }).adapterDescription;
  } catch (e) {
    for (const c of cases)
      results.push({
        case: c.id,
        kind: c.kind,
        impl: `softpool-${backend}`,
        skipped: `unavailable: ${(e as Error).message.split('\n')[0]}`,
      });
    return;
  }
  await runCases(backend, `softpool-${backend}`);
}

async function runCases(backend: string, impl: string): Promise<void> {
  for (const c of cases) {
    try {
      const { timing, peakBytes } = await measureOurs(c, backend, {
        iters,
        warmup: smoke ? 0 : 1,
        budgetMs,
        peak: !smoke,
      });
      results.push({ case: c.id, kind: c.kind, impl, timing, peakBytes, ...derived(c, timing) });
    } catch (e) {
      results.push({
        case: c.id,
        kind: c.kind,
        impl,
        skipped: `error: ${(e as Error).message.split('\n')[0]}`,
      });
    }
  }
}

async function runPeer(peer: AnyPeer): Promise<void> {
  if (peer === 'pytorch-cpu') {
    const torch = runTorch(cases, { threads: maxThreads, iters, warmup: smoke ? 0 : 1, budgetMs });
    torchLabel = torch.label;
    for (const r of torch.results) {
      const c = cases.find((x) => x.id === r.case)!;
      results.push({ ...r, kind: c.kind, impl: peer, ...(r.timing ? derived(c, r.timing) : {}) });
    }
    return;
  }
  const problem = await usePeer(peer);
  for (const c of cases) {
    if (problem) {
      results.push({ case: c.id, kind: c.kind, impl: peer, skipped: `unavailable: ${problem}` });
      continue;
    }
    try {
      const r = peerRunner(c, peer);
      if (typeof r === 'string') {
        results.push({ case: c.id, kind: c.kind, impl: peer, skipped: r });
        continue;
      }
      const peakBytes = smoke ? undefined : await peerPeakBytes(r.run);
      const timing = await measure(r.run, { iters, warmup: smoke ? 0 : 1, budgetMs });
      r.dispose();
      results.push({ case: c.id, kind: c.kind, impl: peer, timing, peakBytes, ...derived(c, timing) });
    } catch (e) {
      results.push({
        case: c.id,
        kind: c.kind,
        impl: peer,
        skipped: `error: ${(e as Error).message.split('\n')[0]}`,
      });
    }
  }
}

function fmtMs(t: Timing): string {
  const v = t.median;
  const s = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${s}${t.truncated && !smoke ? '*' : ''}`;
}

function table(kind: Case['kind'], title: string): void {
  const impls = [...new Set(results.map((r) => r.impl))];
  const ref = `softpool-${ourBackends[0]}`;
  const rows = cases.filter((c) => c.kind === kind);
  if (!rows.length) return;
  const extra = kind === 'matmul' ? ' (GFLOP/s)' : kind === 'train' ? ' (img/s)' : '';
  out(`\n### ${title}\n`);
  out(
    `Median ms per call${extra}; other columns show their time and its ratio to ${ref} (higher = softpool faster${ourBackends.includes('cpu') && threadCounts.length > 1 ? `; for ${cpuImpl(threadCounts[0])}, the speedup from ${maxThreads} threads` : ''}); * = fewer than ${iters} iterations (budget).\n`,
  );
  out(`| case | ${impls.join(' | ')} | peak MB (${ref}) |`);
  out(`|---|${impls.map(() => '---:').join('|')}|---:|`);
  for (const c of rows) {
    const mine = results.find((r) => r.case === c.id && r.impl === ref);
    const cells = impls.map((impl) => {
      const r = results.find((x) => x.case === c.id && x.impl === impl);
      if (!r?.timing) return r?.skipped ?? '';
      let cell = fmtMs(r.timing);
      if (r.gflops !== undefined) cell += ` (${r.gflops.toFixed(1)})`;
      if (r.imagesPerSecond !== undefined) cell += ` (${Math.round(r.imagesPerSecond)})`;
      if (impl !== ref && mine?.timing) cell += ` ${(r.timing.median / mine.timing.median).toFixed(1)}x`;
      return cell;
    });
    out(
      `| ${c.id} | ${cells.join(' | ')} | ${mine?.peakBytes !== undefined ? (mine.peakBytes / 2 ** 20).toFixed(1) : ''} |`,
    );
  }
}

function poolRatios(): void {
  const ref = `softpool-${ourBackends[0]}`;
  const find = (m: string, rest: string) =>
    results.find((r) => r.impl === ref && r.case === `pool ${m} ${rest}`);
  const soft = results.filter(
    (r) =>
      r.impl === ref &&
      r.kind === 'pool' &&
      r.case.startsWith('pool soft ') &&
      r.timing &&
      (find('max', r.case.slice('pool soft '.length))?.timing ||
        find('avg', r.case.slice('pool soft '.length))?.timing),
  );
  if (!soft.length) return;
  out(`\n### SoftPool against max and average pooling (${ref}), and achieved bandwidth\n`);
  out(`Memory-copy bandwidth measured in this run: ${bandwidth.toFixed(1)} GB/s (read + write).\n`);
  out('| case | SoftPool ms | / max | / avg | SoftPool GB/s | max GB/s |');
  out('|---|---:|---:|---:|---:|---:|');
  for (const s of soft) {
    const rest = s.case.slice('pool soft '.length);
    const [mx, av] = [find('max', rest), find('avg', rest)];
    const ratio = (o?: Result) => (o?.timing ? (s.timing!.median / o.timing.median).toFixed(2) : '');
    out(
      `| ${rest} | ${fmtMs(s.timing!)} | ${ratio(mx)} | ${ratio(av)} | ${s.gbps?.toFixed(1)} | ${mx?.gbps?.toFixed(1) ?? ''} |`,
    );
  }
}

if (values.profile) {
  const backend = ourBackends[0];
  if (backend !== 'cpu') await import('@softpool/webgpu' as string).then(() => sp.initBackend(backend));
  for (const c of cases)
    for (const t of backend === 'cpu' ? threadCounts : [1]) {
      sp.setNumThreads(t);
      await sp.threadsReady();
      out(profileTable(await profileCase(c, backend, smoke ? 1 : iters)));
    }
  process.exit(0);
}

const started = new Date();
out(`# softpool benchmarks${smoke ? ' (smoke: tiny sizes, 1 iteration)' : ''}\n`);
out(
  `${started.toISOString()} · ${cpus()[0]?.model ?? 'unknown CPU'} · ${cpus().length} cores · Node ${process.version} · softpool-cpu: ${maxThreads} threads${sp.cpuInfo().relaxedSimd ? ', relaxed SIMD' : ', no relaxed SIMD'}${sp.cpuInfo().winograd ? '' : ', no Winograd (SOFTPOOL_WINOGRAD=0)'}`,
);
for (const b of ourBackends) await runOurs(b);
for (const p of peers) await runPeer(p);
if (torchLabel) out(`pytorch-cpu: ${torchLabel}`);
table('pool', 'Pooling');
poolRatios();
table('matmul', 'Matrix multiply');
table('conv', 'Convolution');
table('op', 'Elementwise, softmax, reduction, mask and broadcast ops (forward)');
table('train', 'Training step (Adam)');

const machine = {
  date: started.toISOString(),
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  softpoolAdapter: ourAdapter ?? null,
  tfjsWebgpuAdapter: tfjsAdapter() ?? null,
  cpuThreads: threadCounts,
  cpuRelaxedSimd: sp.cpuInfo().relaxedSimd,
  cpuWinograd: sp.cpuInfo().winograd,
  pytorch: torchLabel ?? null,
  copyBandwidthGBps: bandwidth,
};
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify({ machine, smoke, iters, budgetMs, results }, null, 2)}\n`);
out(`\nJSON: ${jsonPath}`);
process.exit(0);
