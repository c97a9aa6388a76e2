// `pnpm experiments substitution`: the resumable accuracy grids.
import { DEBIAN_FASHION_MNIST_DIR } from '@softpool/data';
import type { Command } from '../commands.js';
import { intFlag, listFlag, parseFlags } from '../flags.js';
import { GRIDS } from './grid.js';
import { DataCache, runGrid } from './runner.js';

export const DEFAULT_RESULTS = 'apps/experiments/results/substitution.jsonl';
export const QUICK_RESULTS = 'runs/experiments-quick/substitution.jsonl';

export const substitution: Command = {
  summary: 'accuracy when each pooling replaces max pooling (LeNet-5, VGG-style, 3-D CNN; resumable)',
  help: `Usage: pnpm experiments substitution [options]

Trains every model of the grid with every pooling method and 3 seeds, one schedule fixed in advance
(src/substitution/grid.ts), and appends one JSON line per finished run to the results file. A rerun
skips recorded runs and resumes the run in progress from its last checkpoint; Ctrl-C stops cleanly.
Several runners may share one results file (each claims its run).

Options:
  --grid LIST        comma-separated subset of ${GRIDS.join(', ')} (default: all, in that order)
  --quick            a tiny grid on the embedded subset (seconds; CI runs it)
  --results FILE     results file (default ${DEFAULT_RESULTS}; with --quick ${QUICK_RESULTS})
  --data DIR         the full Fashion-MNIST IDX files (default ${DEBIAN_FASHION_MNIST_DIR})
  --max-runs N       stop after N finished runs
  -h, --help         show this help`,
  async run(argv, ctx) {
    const f = parseFlags(argv, {
      grid: { type: 'string' },
      quick: { type: 'boolean' },
      results: { type: 'string' },
      data: { type: 'string' },
      'max-runs': { type: 'string' },
    });
    if (f.help) {
      ctx.log(this.help);
      return 0;
    }
    const quick = f.quick === true;
    const outcome = await runGrid({
      protocol: quick ? 'quick' : 'full',
      grids: listFlag('grid', f.grid, GRIDS) ?? GRIDS,
      results: ctx.root(String(f.results ?? (quick ? QUICK_RESULTS : DEFAULT_RESULTS))),
      data: new DataCache(f.data ? ctx.path(String(f.data)) : DEBIAN_FASHION_MNIST_DIR),
      maxRuns: intFlag('max-runs', f['max-runs'], 1, 1e6),
      log: ctx.log,
      shouldStop: ctx.shouldStop,
    });
    return outcome === 'interrupted' ? 130 : 0;
  },
};
