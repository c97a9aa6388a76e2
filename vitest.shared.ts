// Shared vitest settings: resolve workspace packages to their TypeScript sources (no build needed).
import { defineConfig } from 'vitest/config';

const conditions = ['@softpool/source', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
