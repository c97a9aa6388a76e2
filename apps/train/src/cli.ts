#!/usr/bin/env -S tsx --conditions=@softpool/source
// `softpool-train` / `pnpm train`: parse flags, load data, prepare the output directory, train.
// Exit codes: 0 done, 1 runtime error (data, files), 2 bad flags, 130 interrupted (checkpoint saved).
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { HELP, parse, type TrainArgs, UsageError } from './args.js';
import { OutputError, prepareOutDir } from './io.js';
import { Progress } from './progress.js';
import { loadData, run } from './train.js';

async function main(argv: string[]): Promise<number> {
  let args: TrainArgs;
  try {
    args = parse(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`softpool-train: ${e.message}\nRun with --help for the options.\n`);
      return 2;
    }
    throw e;
  }
  // `pnpm train` runs in apps/train: resolve paths against the directory the user typed it in.
  const base = process.env.INIT_CWD ?? process.cwd();
  for (const k of ['out', 'data', 'resume', 'exportWeights', 'exportOnnx'] as const)
    if (args[k]) args[k] = resolve(base, args[k]);
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  // Found out now rather than after hours of training: the export files' directories must exist.
  for (const [flag, file] of [
    ['--export-weights', args.exportWeights],
    ['--export-onnx', args.exportOnnx],
  ] as const) {
    if (!file) continue;
    const dir = dirname(file);
    const ok = await stat(dir).then(
      (st) => st.isDirectory(),
      () => false,
    );
    if (!ok) {
      process.stderr.write(`softpool-train: ${flag} ${file}: the directory ${dir} does not exist\n`);
      return 2;
    }
  }
  if (args.resume) {
    try {
      await access(args.resume);
    } catch (e) {
      process.stderr.write(
        `softpool-train: cannot read checkpoint ${args.resume} (${(e as NodeJS.ErrnoException).code})\n`,
      );
      return 1;
    }
  }
  let data: Awaited<ReturnType<typeof loadData>>;
  try {
    data = await loadData(args);
  } catch (e) {
    process.stderr.write(`softpool-train: cannot load the data: ${(e as Error).message}\n`);
    return 1;
  }
  let out: Awaited<ReturnType<typeof prepareOutDir>> | undefined;
  if (!args.evalOnly) {
    try {
      out = await prepareOutDir(args.out);
    } catch (e) {
      if (e instanceof OutputError) {
        process.stderr.write(`softpool-train: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130); // a second Ctrl-C does not wait
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await run(args, data, {
      progress: new Progress(process.stdout, args.quiet),
      shouldStop: () => stop,
    });
    return result.interrupted ? 130 : 0;
  } catch (e) {
    await out?.cleanup();
    process.stderr.write(`softpool-train: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`softpool-train: unexpected error: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
