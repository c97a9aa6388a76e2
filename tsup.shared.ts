// Shared tsup settings for library packages: ESM + CJS + declarations from src/index.ts.
import { defineConfig } from 'tsup';

/**
 * `dtsBanner` goes at the top of the bundled .d.ts/.d.cts: the declaration bundler drops
 * triple-slash references from sources, and a consumer's compiler needs them to resolve the
 * globals our types use (tools/consumer/check.mjs type-checks without DOM or Node libs).
 */
export function libraryConfig({ dtsBanner }: { dtsBanner?: string } = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: dtsBanner ? { banner: dtsBanner } : true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
  });
}

export default libraryConfig();
