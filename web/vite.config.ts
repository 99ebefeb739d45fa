/**
 * Builds the agent console into web/dist, which the server serves at /app (src/http/console.ts):
 * hashed file names under assets/ (cached for a year), index.html never cached.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  // Preact's automatic JSX runtime, as web/tsconfig.json declares it.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Served from our own origin under a CSP without 'unsafe-inline': no inlined assets.
    assetsInlineLimit: 0,
    // Node 20 and current browsers only.
    target: 'es2022',
  },
});
