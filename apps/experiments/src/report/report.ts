// docs/experiments.md from the committed results files: every number in it is computed here from
// those files (nothing is copied by hand), and so is every statement of agreement with the paper.
import type { TopLevelSpec } from 'vega-lite';
import type { CostResults } from '../cost.js';
import type { RetentionResults, RetentionSet } from '../retention/command.js';
import { type GridName, PROTOCOLS, summarise } from '../substitution/grid.js';
import type { RunRecord } from '../substitution/runner.js';
import { barSpec, curveSpec, logBarSpec } from './charts.js';
import { welch } from './stats.js';

export interface ReportInputs {
  substitution: RunRecord[];
  retention: RetentionResults | null;
  cost: CostResults | null;
  /** Where the figures are linked from the report, relative to it. */
  imageDir: string;
}

export interface Report {
  markdown: string;
  /** Chart file name -> Vega-Lite spec. */
  charts: Record<string, TopLevelSpec>;
}

const pct = (v: number) => (100 * v).toFixed(2);
const fmtP = (p: number) => (Number.isNaN(p) ? 'n/a' : p < 0.001 ? '<0.001' : p.toFixed(3));
const hms = (s: number) =>
  `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
const ordinal = (n: number) => `${n}${n === 1 ? 'st' : n === 2 ? 'nd' : n === 3 ? 'rd' : 'th'}`;

function retentionSection(r: RetentionResults | null, img: string, charts: Report['charts']): string {
  const out: string[] = ['## 1. Information retention (SSIM, PSNR)', ''];
  out.push(
    '**Paper.** Downsample real images with each pooling method (kernels 2 and 3) and compare them with the originals by SSIM and PSNR; SoftPool is reported to keep the most information.',
    '',
    "**Ours.** `pnpm experiments retention`: every method the library has, kernel = stride = 2 and 3, pooled in float32, resized back to the image's size (scikit-image's `resize` conventions: order 0 = `nearest`, order 1 = `bilinear`, the headline), compared by SSIM (Gaussian window, sigma 1.5, K1 0.01, K2 0.03, scikit-image's `structural_similarity` settings, checked against it to 1e-10) and PSNR, on five CC0/public-domain photos from scikit-image (luminance and RGB) and on the Fashion-MNIST test images. Learned methods (mixed, gated, tree, LIP, DPP, AdaPool's learned weights) are at their initial parameters, stochastic ones in evaluation mode. Pixel values are in [0, 1]; SoftPool's weights depend on that scale (see below).",
    '',
  );
  if (!r) return [...out, '_No retention results yet: run `pnpm experiments retention`._', ''].join('\n');
  out.push(
    `Results: \`apps/experiments/results/retention.json\` (${r.createdAt.slice(0, 10)}, ${r.machine.cpu}).`,
    '',
  );
  const label = (s: RetentionSet) =>
    `${s.set === 'photos' ? `photos, ${s.colour}` : 'Fashion-MNIST test'} (${Array.isArray(s.images) ? s.images.length : s.images} images)`;
  for (const kernel of [2, 3]) {
    out.push(
      `### Kernel ${kernel}, bilinear resizing: mean SSIM and PSNR (± std over images), ranked by SSIM`,
      '',
    );
    const sets = r.sets;
    const methods = [...new Set(sets[0].rows.map((x) => x.method))];
    const get = (s: RetentionSet, m: string, u = 'bilinear') =>
      s.rows.find((x) => x.method === m && x.kernel === kernel && x.upsample === u)!;
    const order = methods.sort((a, b) => get(sets[0], b).ssim.mean - get(sets[0], a).ssim.mean);
    out.push(
      `| method | ${sets.map((s) => `SSIM ${label(s)} | PSNR dB`).join(' | ')} | SSIM, nearest resizing (${label(sets[0])}) |`,
      `|---|${sets.map(() => '---:|---:').join('|')}|---:|`,
    );
    for (const m of order)
      out.push(
        `| ${m === 'soft' ? '**soft**' : m} | ${sets
          .map((s) => {
            const x = get(s, m);
            return `${x.ssim.mean.toFixed(4)} ± ${x.ssim.std.toFixed(4)} | ${x.psnr.mean.toFixed(2)} ± ${x.psnr.std.toFixed(2)}`;
          })
          .join(' | ')} | ${get(sets[0], m, 'nearest').ssim.mean.toFixed(4)} |`,
      );
    out.push('');
    // What agrees with the paper: where SoftPool ranks, and whether it beats max and avg.
    for (const s of sets) {
      const ranked = s.rows
        .filter((x) => x.kernel === kernel && x.upsample === 'bilinear')
        .sort((a, b) => b.ssim.mean - a.ssim.mean);
      const rank = ranked.findIndex((x) => x.method === 'soft') + 1;
      if (rank === 0) continue;
      const soft = get(s, 'soft');
      const cmp = (m: string) => {
        const o = get(s, m);
        return o
          ? `${soft.ssim.mean > o.ssim.mean ? 'above' : 'below'} ${m} (${o.ssim.mean.toFixed(4)})`
          : '';
      };
      out.push(
        `- ${label(s)}: SoftPool ranks ${ordinal(rank)} of ${ranked.length} by SSIM (${soft.ssim.mean.toFixed(5)}), ${cmp('max')} and ${cmp('avg')}; best: ${ranked[0].method} (${ranked[0].ssim.mean.toFixed(5)}).`,
      );
    }
    out.push('');
  }
  const studies = r.sets.filter((s) => s.temperatures?.length);
  if (studies.length) {
    out.push(
      '### SoftPool and the scale of its input',
      '',
      "SoftPool's weights are softmax(a / T): they depend on the values' scale. Pixels in [0, 1] (as here) make the weights nearly uniform, so SoftPool lands near average pooling; the same images in 0-255 (T = 1/255 on [0, 1]) make them nearly one-hot, close to max pooling. SSIM with bilinear resizing:",
      '',
      `| image set | kernel | ${studies[0]
        .temperatures!.filter((t) => t.kernel === 2 && t.upsample === 'bilinear')
        .map((t) => `soft, T = ${t.temperature === 1 / 255 ? '1/255' : t.temperature}`)
        .join(' | ')} | avg | max |`,
      `|---|---:|${studies[0]
        .temperatures!.filter((t) => t.kernel === 2 && t.upsample === 'bilinear')
        .map(() => '---:')
        .join('|')}|---:|---:|`,
    );
    for (const s of studies)
      for (const kernel of [2, 3]) {
        const ts = s.temperatures!.filter((t) => t.kernel === kernel && t.upsample === 'bilinear');
        const m = (name: string) =>
          s.rows
            .find((x) => x.method === name && x.kernel === kernel && x.upsample === 'bilinear')
            ?.ssim.mean.toFixed(4) ?? '';
        out.push(
          `| ${label(s)} | ${kernel} | ${ts.map((t) => t.ssim.mean.toFixed(4)).join(' | ')} | ${m('avg')} | ${m('max')} |`,
        );
      }
    out.push('');
  }
  const bars = r.sets.flatMap((s) =>
    s.rows
      .filter((x) => x.kernel === 2 && x.upsample === 'bilinear' && !['tree', 'lp'].includes(x.method))
      .map((x) => ({ group: label(s), method: x.method, mean: x.ssim.mean, std: x.ssim.std })),
  );
  charts['retention-ssim.svg'] = barSpec(
    'SSIM of pooled (kernel 2) and bilinearly restored images (mean ± std over images; tree and LP left out, see table)',
    'SSIM',
    bars,
  );
  out.push(
    `![SSIM by method](${img}/retention-ssim.svg)`,
    '',
    `![Every method on one photo crop](${img}/retention-figure.png)`,
    '',
    "The figure shows a crop of the astronaut photo pooled by every method (kernel 2) and resized back by nearest neighbour, with the red square magnified below. LP pooling (p = 2) is PyTorch's `LPPool2d`, an unnormalised sum (`(sum x^p)^(1/p)`), so its output is brighter than the input by design; tree pooling at its initial parameters outputs values near zero. Both say nothing about what those methods keep once trained.",
    '',
  );
  return out.join('\n');
}

interface GridRows {
  grid: GridName;
  title: string;
}

function substitutionSection(records: RunRecord[], img: string, charts: Report['charts']): string {
  const out: string[] = ['## 2. Substitution: accuracy when each pooling replaces max pooling', ''];
  const full = PROTOCOLS.full;
  out.push(
    '**Paper.** The pooling layers of standard ImageNet CNNs (ResNet, DenseNet, ResNeXt, ...) replaced by each method; SoftPool is reported to raise top-1 accuracy by about 1-2 % over max pooling.',
    '',
    `**Ours.** \`pnpm experiments substitution\`, one schedule fixed before the runs (\`src/substitution/grid.ts\`), 3 seeds per method (seeds change initialisation and shuffling), the trainer of \`pnpm train\` (Adam, lr 0.002, cosine schedule, batch 64, no augmentation). Reported: the **last epoch's** test accuracy, mean ± sample std over seeds; the difference to max pooling with Welch's t-test (two-sided). With n = 3 per method, p-values are rough: a p below 0.05 is weak evidence and a larger one is no evidence of no effect. ImageNet-scale networks do not fit a 2-core machine: LeNet-5 on the full Fashion-MNIST (${full.lenet.schedule.epochs} epochs), a VGG-style net (5 conv layers with batch norm) on a class-balanced 10,000-image subset of the training set, tested on the full test set (${full.deep.schedule.epochs} epochs), and the 3-D CNN on noisy synthetic clips (section 4).`,
    '',
  );
  const grids: GridRows[] = [
    { grid: 'lenet', title: 'LeNet-5, full Fashion-MNIST (60,000 train / 10,000 test)' },
    { grid: 'deep', title: 'VGG-style, 10,000 training images (1,000 per class), full test set' },
  ];
  out.push(gridTables(records, grids, img, charts));
  return out.join('\n');
}

function gridTables(records: RunRecord[], grids: GridRows[], img: string, charts: Report['charts']): string {
  const out: string[] = [];
  for (const { grid, title } of grids) {
    const rs = records.filter((r) => r.grid === grid && r.protocol === 'full-v1');
    out.push(`### ${title}`, '');
    if (rs.length === 0) {
      out.push('_No runs recorded yet._', '');
      continue;
    }
    const s = summarise(rs).sort((a, b) => b.mean - a.mean);
    const max = s.find((m) => m.pool === 'max');
    const seeds = PROTOCOLS.full[grid].seeds.length;
    const incomplete = s.filter((m) => m.n < seeds).map((m) => `${m.pool} (${m.n})`);
    const wall = rs.reduce((a, r) => a + r.trainSeconds, 0);
    out.push(
      `${rs.length} run${rs.length === 1 ? '' : 's'} recorded; training time ${hms(wall)} on ${[...new Set(rs.map((r) => `${r.machine.cores} × ${r.machine.cpu}`))].join(', ')}.${incomplete.length ? ` **Grid incomplete**: fewer than ${seeds} seeds for ${incomplete.join(', ')}; their rows will change.` : ''}`,
      '',
      '| rank | method | seeds | test accuracy % (mean ± std) | per seed | vs max (points) | Welch p |',
      '|---:|---|---:|---:|---|---:|---:|',
    );
    s.forEach((m, i) => {
      const w = max && m.pool !== 'max' ? welch(m.values, max.values) : null;
      out.push(
        `| ${i + 1} | ${m.pool === 'soft' ? '**soft**' : m.pool} | ${m.n} | ${pct(m.mean)} ± ${pct(m.std)} | ${m.values.map(pct).join(', ')} | ${w ? `${w.diff >= 0 ? '+' : ''}${pct(w.diff)}` : ''} | ${w ? fmtP(w.p) : ''} |`,
      );
    });
    out.push('');
    const soft = s.find((m) => m.pool === 'soft');
    if (soft && max) {
      const w = welch(soft.values, max.values);
      const rank = s.indexOf(soft) + 1;
      out.push(
        `SoftPool: ${pct(soft.mean)} % against max pooling's ${pct(max.mean)} % (${w.diff >= 0 ? '+' : ''}${pct(w.diff)} points, p ${fmtP(w.p)}), ${ordinal(rank)} of ${s.length} methods. ${w.diff > 0 && w.p < 0.05 ? 'This agrees with the paper in direction.' : w.diff > 0 ? 'Higher than max pooling, as the paper reports, but not distinguishable from seed noise at n = 3.' : "This does not reproduce the paper's gain."}`,
        '',
      );
    }
    const curves = new Map<string, number[][]>();
    for (const r of rs) {
      const c = curves.get(r.pool) ?? [];
      r.history.forEach((h, e) => {
        c[e] = [...(c[e] ?? []), h.testAcc];
      });
      curves.set(r.pool, c);
    }
    const data = [...curves].flatMap(([method, c]) =>
      c.map((v, e) => ({ method, epoch: e + 1, acc: (100 * v.reduce((a, b) => a + b, 0)) / v.length })),
    );
    const bars = s.map((m) => ({ group: grid, method: m.pool, mean: 100 * m.mean, std: 100 * m.std }));
    charts[`substitution-${grid}.svg`] = barSpec(
      `${title}: final test accuracy (mean ± std over seeds)`,
      'test accuracy %',
      bars,
    );
    charts[`substitution-${grid}-curves.svg`] = curveSpec(`${title}: test accuracy per epoch`, data);
    out.push(
      `![${grid} final accuracy](${img}/substitution-${grid}.svg)`,
      '',
      `![${grid} accuracy curves](${img}/substitution-${grid}-curves.svg)`,
      '',
    );
  }
  return out.join('\n');
}

/** The CPU backend's threads in a cost run, in words (runs before they were recorded used one). */
function cpuThreads(c: CostResults | null): string {
  const n = c?.machine.cpuThreads ?? 1;
  return n === 1 ? 'one thread' : `${n} threads`;
}

function costSection(c: CostResults | null, img: string, charts: Report['charts']): string {
  const out: string[] = ['## 3. Cost: time and memory', ''];
  out.push(
    '**Paper.** Forward and backward latency and memory of each method on CPU and GPU; SoftPool is reported to cost little more than max and average pooling (with their CUDA kernels).',
    '',
    `**Ours.** \`pnpm experiments cost\`: every method through the bench harness (\`apps/bench\`, median of the timed calls after a warm-up, peak bytes allocated by one call), kernel 2 stride 2 on a LeNet/VGG-like activation [64,16,28,28], a larger one [16,32,64,64], and 3-D [8,16,8,32,32]; the CPU backend (WebAssembly SIMD, ${cpuThreads(c)}) and WebGPU (whatever adapter the machine has; here Mesa's lavapipe, a CPU rasteriser, so its figures compare kernels, not GPUs). And the share of a training step spent in pooling kernels (CPU, batch 64).`,
    '',
  );
  if (!c) return [...out, '_No cost results yet: run `pnpm experiments cost`._', ''].join('\n');
  out.push(
    `Results: \`apps/experiments/results/cost.json\` (${c.createdAt.slice(0, 10)}, ${c.machine.cores} × ${c.machine.cpu}; WebGPU adapter: ${c.machine.webgpuAdapter ?? 'none'}; ${c.iters} timed calls per case).`,
    '',
  );
  const shapes = [...new Set(c.rows.map((r) => r.shape.join('x')))];
  for (const backend of [...new Set(c.rows.map((r) => r.backend))]) {
    const rows = c.rows.filter((r) => r.backend === backend);
    if (rows.every((r) => r.skipped)) {
      out.push(`${backend}: ${rows[0].skipped}`, '');
      continue;
    }
    out.push(`### ${backend}: median ms per call (ratio to max pooling), peak MiB of fwd+bwd`, '');
    out.push(
      `| method | ${shapes.map((s) => `${s} fwd | fwd+bwd | MiB`).join(' | ')} |`,
      `|---|${shapes.map(() => '---:|---:|---:').join('|')}|`,
    );
    for (const m of [...new Set(rows.map((r) => r.method))]) {
      const cells = shapes.map((shape) => {
        const get = (method: string, mode: string) =>
          rows.find((r) => r.method === method && r.shape.join('x') === shape && r.mode === mode);
        const cell = (mode: string) => {
          const r = get(m, mode);
          const mx = get('max', mode);
          if (!r) return '';
          if (!r.timing) return r.skipped ?? '';
          const ratio = mx?.timing ? ` (${(r.timing.median / mx.timing.median).toFixed(2)})` : '';
          return `${r.timing.median.toFixed(2)}${ratio}`;
        };
        const b = get(m, 'fwd+bwd');
        return `${cell('fwd')} | ${cell('fwd+bwd')} | ${b?.peakBytes !== undefined ? (b.peakBytes / 2 ** 20).toFixed(1) : ''}`;
      });
      out.push(`| ${m === 'soft' ? '**soft**' : m} | ${cells.join(' | ')} |`);
    }
    out.push('');
    const big = shapes[1] ?? shapes[0];
    charts[`cost-${backend}.svg`] = logBarSpec(
      `${backend}: forward+backward ms per call, ${big}, kernel 2`,
      'ms (median, log scale)',
      rows
        .filter((r) => r.timing && r.mode === 'fwd+bwd' && r.shape.join('x') === big)
        .map((r) => ({ method: r.method, value: r.timing!.median })),
    );
    out.push(`![${backend} cost](${img}/cost-${backend}.svg)`, '');
    const soft = rows.find((r) => r.method === 'soft' && r.mode === 'fwd+bwd' && r.shape.join('x') === big);
    const max = rows.find((r) => r.method === 'max' && r.mode === 'fwd+bwd' && r.shape.join('x') === big);
    const avg = rows.find((r) => r.method === 'avg' && r.mode === 'fwd+bwd' && r.shape.join('x') === big);
    if (soft?.timing && max?.timing && avg?.timing)
      out.push(
        `On ${backend} at ${big}, SoftPool forward+backward takes ${(soft.timing.median / max.timing.median).toFixed(2)}x the time of max pooling and ${(soft.timing.median / avg.timing.median).toFixed(2)}x that of average pooling.`,
        '',
      );
  }
  if (c.shares.length) {
    out.push('### Share of a training step spent in pooling kernels (CPU)', '');
    out.push('| model | pooling | batch | step ms | pooling ms | share |', '|---|---|---:|---:|---:|---:|');
    for (const s of c.shares)
      out.push(
        `| ${s.model} | ${s.pool} | ${s.batch} | ${s.stepMs.toFixed(1)} | ${s.poolMs.toFixed(2)} | ${(100 * s.share).toFixed(1)} % |`,
      );
    out.push('');
  }
  return out.join('\n');
}

function videoSection(
  records: RunRecord[],
  c: CostResults | null,
  img: string,
  charts: Report['charts'],
): string {
  const d = PROTOCOLS.full.clips;
  const data = d.data.kind === 'clips' ? d.data : null;
  const out: string[] = ['## 4. 3-D pooling (video)', ''];
  out.push(
    '**Paper.** 3-D SoftPool in 3-D CNNs for action recognition (Kinetics, UCF-101, HMDB-51), reported to improve on max pooling.',
    '',
    `**Ours.** No video dataset is available offline; the 3-D CNN (\`@softpool/models\` \`CNN3D\`, two conv3d + batch norm stages, each followed by the 3-D pooling) classifies synthetic clips (\`movingShapes\`: a shape moving in one of four directions, so only motion tells the class) with Gaussian pixel noise (std ${data?.noise}) so that the task does not saturate: ${data?.train} training and ${data?.test} test clips of ${data?.frames} frames of ${data?.size}x${data?.size}, ${d.schedule.epochs} epochs, 3 seeds, max / avg / soft. The 3-D costs are in section 3 (the [8,16,8,32,32] columns).`,
    '',
  );
  out.push(
    gridTables(records, [{ grid: 'clips', title: '3-D CNN on noisy moving-shape clips' }], img, charts),
  );
  void c;
  return out.join('\n');
}

/** One computed line per claim: where SoftPool stands, from the same numbers as the sections. */
function summary(inputs: ReportInputs): string {
  const lines: string[] = ['## Summary', ''];
  const r = inputs.retention;
  const photos = r?.sets.find((s) => s.set === 'photos' && s.colour === 'luminance');
  if (photos) {
    const k2 = photos.rows
      .filter((x) => x.kernel === 2 && x.upsample === 'bilinear')
      .sort((a, b) => b.ssim.mean - a.ssim.mean);
    const at = (m: string) => k2.find((x) => x.method === m)!;
    const rank = k2.findIndex((x) => x.method === 'soft') + 1;
    const [soft, max, avg] = ['soft', 'max', 'avg'].map((m) => at(m).ssim.mean);
    lines.push(
      `- **Retention** (photos, kernel 2): SoftPool ranks ${ordinal(rank)} of ${k2.length} by SSIM (${soft.toFixed(5)}); max pooling ${max.toFixed(5)}, average pooling ${avg.toFixed(5)}. ${rank === 1 ? 'It keeps the most, as the paper reports.' : `It keeps ${soft > max ? 'more than max pooling' : 'less than max pooling'} and ${soft > avg ? 'more' : 'less'} than average pooling, but ${k2[0].method} keeps the most: the paper's claim holds ${soft > max ? 'against max pooling, not against every method' : 'against neither'}.`}`,
    );
  } else lines.push('- **Retention**: no results yet.');
  for (const [grid, what] of [
    ['lenet', 'LeNet-5 substitution'],
    ['deep', 'VGG-style substitution'],
    ['clips', '3-D CNN'],
  ] as const) {
    const rs = inputs.substitution.filter((x) => x.grid === grid && x.protocol === 'full-v1');
    const s = summarise(rs);
    const soft = s.find((m) => m.pool === 'soft');
    const max = s.find((m) => m.pool === 'max');
    const seeds = PROTOCOLS.full[grid].seeds.length;
    if (!soft || !max || soft.n < seeds || max.n < seeds) {
      lines.push(
        `- **${what}**: ${rs.length} runs recorded so far; the comparison waits for all seeds of soft and max.`,
      );
      continue;
    }
    const w = welch(soft.values, max.values);
    lines.push(
      `- **${what}**: SoftPool ${pct(soft.mean)} ± ${pct(soft.std)} % vs max pooling ${pct(max.mean)} ± ${pct(max.std)} % (${w.diff >= 0 ? '+' : ''}${pct(w.diff)} points, Welch p ${fmtP(w.p)}, n = ${seeds}).`,
    );
  }
  const c = inputs.cost;
  if (c) {
    const ratio = (backend: string) => {
      const get = (m: string) =>
        c.rows.find(
          (x) =>
            x.backend === backend &&
            x.method === m &&
            x.mode === 'fwd+bwd' &&
            x.shape.join('x') === '16x32x64x64',
        )?.timing?.median;
      const [s, m] = [get('soft'), get('max')];
      return s && m ? `${(s / m).toFixed(2)}x max pooling on ${backend}` : null;
    };
    const share = c.shares.find((x) => x.model === 'lenet5' && x.pool === 'soft');
    lines.push(
      `- **Cost** (forward+backward, [16,32,64,64]): SoftPool takes ${[ratio('cpu'), ratio('webgpu')].filter(Boolean).join(', ')}${share ? `; pooling is ${(100 * share.share).toFixed(1)} % of a LeNet-5 + SoftPool training step on the CPU` : ''}.`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function buildReport(inputs: ReportInputs): Report {
  const charts: Report['charts'] = {};
  const img = inputs.imageDir;
  const rs = inputs.substitution;
  const total = rs.filter((r) => r.protocol === 'full-v1').reduce((a, r) => a + r.trainSeconds, 0);
  const markdown = [
    "# Experiments: the SoftPool paper's claims, on this machine",
    '',
    '<!-- Generated by `pnpm experiments report` from apps/experiments/results/; edit the generator, not this file. -->',
    '',
    "SoftPool (Stergiou, Poppe, Kalliatakis, ICCV 2021) makes four claims: it keeps more information than other poolings, it raises accuracy when substituted for them, it costs little, and it carries over to 3-D. Each section below gives the paper's protocol, ours (and why they differ), our tables and figures, and what agrees with the paper and what does not. Everything is regenerated from the committed results files; the runs that produce them are resumable (`pnpm experiments <name> --help`).",
    '',
    `Training time of every recorded substitution run so far: ${hms(total)}.`,
    '',
    summary(inputs),
    retentionSection(inputs.retention, img, charts),
    substitutionSection(rs, img, charts),
    costSection(inputs.cost, img, charts),
    videoSection(rs, inputs.cost, img, charts),
  ].join('\n');
  return { markdown: `${markdown.trimEnd()}\n`, charts };
}
