#!/usr/bin/env node
// Prints the Node flags the project's commands add: `--experimental-wasm-relaxed-simd` where this
// Node lacks relaxed SIMD but has the flag (Node 20; Node 21+ has relaxed SIMD on, and later
// versions reject the flag as a bad option), so the CPU kernels get their fused multiply-adds.
// Used as `node $(node tools/node-flags.mjs) ...` in package.json scripts and .ci/run.
// tools/wasm.mjs imports `hasRelaxedSimd` from here.
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

// (module (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))))
const PROBE =
  'AGFzbQEAAAABBQFgAAF7AwIBAAo9ATsA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/QwAAAAAAAAAAAAAAAAAAAAA/YUCCw==';
const FLAG = '--experimental-wasm-relaxed-simd';
const check = `process.exit(WebAssembly.validate(Buffer.from('${PROBE}', 'base64')) ? 0 : 1)`;

/** Whether this process's engine has relaxed SIMD. */
export function hasRelaxedSimd() {
  return WebAssembly.validate(Buffer.from(PROBE, 'base64'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && !hasRelaxedSimd()) {
  const withFlag = spawnSync(process.execPath, [FLAG, '-e', check], { stdio: 'ignore' });
  if (withFlag.status === 0) process.stdout.write(FLAG);
}
