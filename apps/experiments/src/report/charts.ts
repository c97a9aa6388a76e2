// Charts of the report: Vega-Lite specs compiled and rendered to SVG by Vega, headless in Node.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Vega-Lite's notes on merged facet scales are expected here: keep the console quiet.
  const quiet = vega.logger(vega.None);
  const view = new vega.View(vega.parse(compile(spec, { logger: quiet }).spec), { renderer: 'none' });
  view.logLevel(vega.None);
  const svg = await view.toSVG();
  view.finalize();
  return `${svg}\n`;
}

export interface BarDatum {
  group: string;
  method: string;
  mean: number;
  std: number;
}

/** Horizontal bars (mean) with error bars (± std), one panel per group, methods sorted by mean. */
export function barSpec(
  title: string,
  axis: string,
  data: BarDatum[],
  scale: 'linear' | 'log' = 'linear',
): TopLevelSpec {
  const rows = data.map((d) => ({ ...d, lo: d.mean - d.std, hi: d.mean + d.std }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    data: { values: rows },
    facet: { column: { field: 'group', type: 'nominal', title: null } },
    spec: {
      width: 220,
      height: { step: 14 },
      layer: [
        {
          mark: { type: 'bar', color: '#7aa6d6' },
          encoding: {
            y: { field: 'method', type: 'nominal', sort: '-x', title: null },
            x: {
              field: 'mean',
              type: 'quantitative',
              title: axis,
              scale: scale === 'log' ? { type: 'log' } : { zero: false },
            },
            color: {
              condition: { test: "datum.method === 'soft'", value: '#d6604d' },
              value: '#7aa6d6',
            },
          },
        },
        {
          mark: { type: 'rule', color: 'black' },
          encoding: {
            y: { field: 'method', type: 'nominal', sort: '-x' },
            x: { field: 'lo', type: 'quantitative' },
            x2: { field: 'hi' },
          },
        },
      ],
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as TopLevelSpec;
}

export interface CurveDatum {
  method: string;
  epoch: number;
  acc: number;
}

/** Mean test accuracy per epoch, one line per method (SoftPool drawn thicker). */
export function curveSpec(title: string, data: CurveDatum[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 420,
    height: 260,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'ordinal', title: 'epoch' },
      y: {
        field: 'acc',
        type: 'quantitative',
        title: 'test accuracy (mean over seeds, %)',
        scale: { zero: false },
      },
      color: { field: 'method', type: 'nominal', scale: { scheme: 'tableau20' } },
      strokeWidth: { condition: { test: "datum.method === 'soft'", value: 3.5 }, value: 1.2 },
    },
  } as TopLevelSpec;
}

/** Horizontal bars on a log axis (costs spanning orders of magnitude), SoftPool highlighted. */
export function logBarSpec(
  title: string,
  axis: string,
  data: { method: string; value: number }[],
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 360,
    height: { step: 16 },
    data: { values: data },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'method', type: 'nominal', sort: '-x', title: null },
      // Bars start at the axis' low end: a log axis has no zero to stack from.
      x: { field: 'value', type: 'quantitative', title: axis, scale: { type: 'log' }, stack: null },
      color: { condition: { test: "datum.method === 'soft'", value: '#d6604d' }, value: '#7aa6d6' },
    },
  } as TopLevelSpec;
}
