// The experiments by name, each with its help text; `pnpm experiments --help` lists them.
import { costCommand } from './cost.js';
import { reportCommand } from './report/command.js';
import { retentionCommand } from './retention/command.js';
import { substitution } from './substitution/command.js';

export interface Context {
  /** A path the user typed, resolved against their working directory. */
  path: (p: string) => string;
  /** A default path, relative to the repository root. */
  root: (p: string) => string;
  log: (line: string) => void;
  shouldStop: () => boolean;
}

export interface Command {
  summary: string;
  help: string;
  run: (argv: string[], ctx: Context) => Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  retention: retentionCommand,
  substitution,
  cost: costCommand,
  report: reportCommand,
};

export const HELP = `Usage: pnpm experiments <name> [options]   (pnpm experiments <name> --help for its options)

The SoftPool paper's claims, reproduced on real data.

Experiments:
${Object.entries(COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`)
  .join('\n')}`;
