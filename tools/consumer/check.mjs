#!/usr/bin/env node
// Checks the packages as a user meets them: packs every library package, runs publint and
// arethetypeswrong on each tarball, installs the tarballs with npm into a fresh project outside
// the workspace, type-checks consumer.ts there strictly as ESM (.mts) and CommonJS (.cts) under
// moduleResolution nodenext and bundler, then runs the compiled ESM and CJS programs.
// Needs the packages built (`pnpm build`). Usage: node tools/consumer/check.mjs [--keep]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const packages = ['tensor', 'autograd', 'layers', 'data', 'models', 'onnx', 'webgpu'];
const bin = (name) => join(root, 'node_modules/.bin', name);
const keep = process.argv.includes('--keep');

function sh(cmd, args, cwd) {
  console.log(`$ ${[cmd, ...args].join(' ')}${cwd === root ? '' : `   (in ${cwd})`}`);
  execFileSync(cmd, args, { cwd, stdio: 'inherit' });
}

const project = mkdtempSync(join(tmpdir(), 'softpool-consumer-'));
try {
  // 1. Pack, and lint each tarball as published.
  const packs = join(project, 'packs');
  for (const p of packages) {
    const dir = join(root, 'packages', p);
    execFileSync('pnpm', ['pack', '--pack-destination', packs], { cwd: dir, stdio: 'ignore' });
    sh(bin('publint'), ['--strict', dir], root);
  }
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  for (const t of tarballs) sh(bin('attw'), ['--format', 'table-flipped', t], root);

  // 2. A fresh project that installs the tarballs, as a user would.
  const app = join(project, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`,
  );
  sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], app);
  const programs = ['consumer', 'webgpu'];
  for (const p of programs) {
    copyFileSync(join(here, `${p}.ts`), join(app, `${p}.mts`));
    copyFileSync(join(here, `${p}.ts`), join(app, `${p}.cts`));
  }

  // 3. Strict type-checks, one program at a time: no skipLibCheck, no DOM or Node types, so the
  // packages' own .d.ts must reference every lib they need.
  const strict = { strict: true, skipLibCheck: false, target: 'es2022', lib: ['es2022'], types: [] };
  const resolutions = {
    nodenext: { module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' },
    bundler: { module: 'esnext', moduleResolution: 'bundler', noEmit: true },
  };
  for (const p of programs) {
    for (const [mode, options] of Object.entries(resolutions)) {
      const name = `tsconfig.${p}.${mode}.json`;
      const files = mode === 'nodenext' ? [`${p}.mts`, `${p}.cts`] : [`${p}.mts`];
      const config = { compilerOptions: { ...strict, ...options }, files };
      writeFileSync(join(app, name), `${JSON.stringify(config, null, 2)}\n`);
      sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', name], app);
    }
  }

  // 4. Run what nodenext compiled: the ESM build and the CJS build of every package.
  for (const p of programs) {
    sh(process.execPath, [`out/${p}.mjs`], app);
    sh(process.execPath, [`out/${p}.cjs`], app);
  }
  console.log(`consumer check passed (${project})`);
} finally {
  if (!keep) rmSync(project, { recursive: true, force: true });
}
