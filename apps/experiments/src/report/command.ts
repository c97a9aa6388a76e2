// `pnpm experiments report`: regenerates docs/experiments.md and its charts from the results files.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Command } from '../commands.js';
import { COST_RESULTS } from '../cost.js';
import { parseFlags } from '../flags.js';
import { ResultsError, readResults, writeAtomic } from '../results.js';
import { RETENTION_RESULTS } from '../retention/command.js';
import { DEFAULT_RESULTS } from '../substitution/command.js';
import type { RunRecord } from '../substitution/runner.js';
import { renderSvg } from './charts.js';
import { buildReport } from './report.js';

export const REPORT = 'docs/experiments.md';
export const IMAGES = 'docs/images/experiments';

async function readJson<T>(file: string): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ResultsError(`cannot read ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ResultsError(`${file} is not valid JSON; regenerate it with its experiment`);
  }
}

export const reportCommand: Command = {
  summary: `regenerate ${REPORT} and its charts from the committed results files`,
  help: `Usage: pnpm experiments report [options]

Reads the results files of the experiments and writes the report and its SVG charts. Results that
do not exist yet are reported as missing; partial grids are marked incomplete.

Options:
  --substitution FILE   (default ${DEFAULT_RESULTS})
  --retention FILE      (default ${RETENTION_RESULTS})
  --cost FILE           (default ${COST_RESULTS})
  --out FILE            the report (default ${REPORT}); charts go to ${IMAGES}/ beside the
                        default report, or to images/ beside another one
  -h, --help            show this help`,
  async run(argv, ctx) {
    const f = parseFlags(argv, {
      substitution: { type: 'string' },
      retention: { type: 'string' },
      cost: { type: 'string' },
      out: { type: 'string' },
    });
    if (f.help) {
      ctx.log(this.help);
      return 0;
    }
    const file = (k: string, dflt: string) => (f[k] ? ctx.path(String(f[k])) : ctx.root(dflt));
    const out = file('out', REPORT);
    const images = f.out ? join(dirname(out), 'images') : ctx.root(IMAGES);
    const report = buildReport({
      substitution: await readResults<RunRecord>(file('substitution', DEFAULT_RESULTS)),
      retention: await readJson(file('retention', RETENTION_RESULTS)),
      cost: await readJson(file('cost', COST_RESULTS)),
      imageDir: relative(dirname(out), images) || '.',
    });
    try {
      await mkdir(images, { recursive: true });
      for (const [name, spec] of Object.entries(report.charts))
        await writeAtomic(join(images, name), await renderSvg(spec));
      await writeAtomic(out, report.markdown);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!code) throw e;
      throw new ResultsError(`cannot write the report to ${out} (${code})`);
    }
    ctx.log(`wrote ${out} and ${Object.keys(report.charts).length} charts in ${images}`);
    return 0;
  },
};
