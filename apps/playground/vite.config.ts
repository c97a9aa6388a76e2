// Static build with relative asset paths (works under any sub-path). The headers make the page
// cross-origin isolated (SharedArrayBuffer for CPU threads); other hosts need the same two headers.
import { defaultClientConditions, defineConfig } from 'vite';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  // Workspace packages from their TypeScript sources, like the tests (no package build needed).
  resolve: { conditions: ['@softpool/source', ...defaultClientConditions] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
