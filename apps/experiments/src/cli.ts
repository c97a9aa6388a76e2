#!/usr/bin/env -S tsx --conditions=@softpool/source
// `pnpm experiments <name> [flags]`: the SoftPool paper's claims on real data.
// Exit codes: 0 done, 1 runtime error (data, files), 2 bad flags, 130 interrupted (resumable).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, HELP } from './commands.js';
import { UsageError } from './flags.js';

async function main(argv: string[]): Promise<number> {
  // `pnpm experiments -- --help` passes a literal `--` along.
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(
      `softpool-experiments: unknown experiment '${name}'; choose one of ${Object.keys(COMMANDS).join(', ')}\n`,
    );
    return 2;
  }
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nstopping after the current step (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Paths are resolved against the directory the user typed the command in.
    const base = process.env.INIT_CWD ?? process.cwd();
    return await command.run(rest, {
      path: (p: string) => resolve(base, p),
      root: (p: string) => resolve(fileURLToPath(new URL('../../../', import.meta.url)), p),
      log: (line: string) => process.stdout.write(`${line}\n`),
      shouldStop: () => stop,
    });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(
        `softpool-experiments ${name}: ${e.message}\nRun 'pnpm experiments ${name} --help' for the options.\n`,
      );
      return 2;
    }
    process.stderr.write(`softpool-experiments ${name}: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`softpool-experiments: unexpected error: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
