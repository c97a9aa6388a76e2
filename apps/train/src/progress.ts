// Progress output: a live bar on a terminal, plain periodic lines otherwise, and the summary table.
export interface EpochMetrics {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testLoss: number;
  testAcc: number;
  lr: number;
  seconds: number;
  imagesPerSecond: number;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class Progress {
  #last = 0;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly quiet: boolean,
  ) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  step(
    epoch: number,
    epochs: number,
    step: number,
    steps: number,
    loss: number,
    acc: number,
    imagesPerSecond: number,
  ): void {
    if (this.quiet) return;
    const eta = (steps - step) * this.#rate(imagesPerSecond);
    const text = `epoch ${epoch}/${epochs} ${step}/${steps} loss ${loss.toFixed(4)} acc ${(acc * 100).toFixed(1)}% ${Math.round(imagesPerSecond)} img/s ETA ${clock(eta)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((step / steps) * width);
      this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (step === steps || performance.now() - this.#last > 10_000) {
      this.#last = performance.now();
      this.out.write(`${text}\n`);
    }
  }

  #batch = 64;
  setBatch(n: number): void {
    this.#batch = n;
  }
  #rate(imagesPerSecond: number): number {
    return imagesPerSecond > 0 ? this.#batch / imagesPerSecond : Number.NaN;
  }

  line(text: string): void {
    if (this.quiet) return;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`${text}\n`);
  }
}

/** The per-epoch summary table (Markdown-style, readable in a terminal and in files). */
export function summaryTable(history: EpochMetrics[]): string {
  const head = ['epoch', 'train loss', 'train acc', 'test loss', 'test acc', 'lr', 'time', 'img/s'];
  const rows = history.map((h) => [
    String(h.epoch),
    h.trainLoss.toFixed(4),
    `${(h.trainAcc * 100).toFixed(2)}%`,
    h.testLoss.toFixed(4),
    `${(h.testAcc * 100).toFixed(2)}%`,
    h.lr.toExponential(2),
    `${h.seconds.toFixed(1)}s`,
    String(Math.round(h.imagesPerSecond)),
  ]);
  const widths = head.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => `| ${r.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(fmt)].join('\n');
}

export function metricsCsv(history: EpochMetrics[]): string {
  const cols = [
    'epoch',
    'trainLoss',
    'trainAcc',
    'testLoss',
    'testAcc',
    'lr',
    'seconds',
    'imagesPerSecond',
  ] as const;
  return `${cols.join(',')}\n${history.map((h) => cols.map((c) => h[c]).join(',')).join('\n')}\n`;
}
