import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/** The code every page loads (the entry chunk) stays under Vite's default warning size. */
const ENTRY_CHUNK_LIMIT_KB = 500;
/**
 * Vite's own warning, raised for hls.js alone: ≈580 kB minified, a chunk of its own fetched only
 * when an HLS stream plays (src/web/lib/player.ts `loadHls`). The entry chunk keeps the 500 kB bound.
 */
const LAZY_CHUNK_LIMIT_KB = 650;

function entryChunkBudget(): Plugin {
  return {
    name: 'marquee-entry-chunk-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        const kb = file.type === 'chunk' ? file.code.length / 1000 : 0;
        if (file.type === 'chunk' && file.isEntry && kb > ENTRY_CHUNK_LIMIT_KB) {
          this.warn(`${file.fileName} is ${Math.round(kb)} kB, over ${ENTRY_CHUNK_LIMIT_KB} kB: load large parts that only some pages need with import()`);
        }
      }
    },
  };
}

// The UI is served by the Marquee server, possibly under a reverse-proxy sub-path
// (MARQUEE_BASE_URL). `base: './'` keeps every asset URL relative to index.html, and the
// server rewrites <meta name="marquee-base"> so the app can build its API URLs.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react(), entryChunkBudget()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the production build: they would publish the whole UI source (1.3 MB).
    // `vite build --sourcemap` (or the dev server, which maps on the fly) when debugging.
    sourcemap: false,
    chunkSizeWarningLimit: LAZY_CHUNK_LIMIT_KB,
  },
  server: {
    // `npx vite --config src/web/vite.config.ts` during development: forward the API to a running
    // Marquee (`npm run demo -- --port 8080`: the real server over the simulators).
    proxy: { '/api': process.env.MARQUEE_DEV_API ?? 'http://127.0.0.1:8080' },
  },
});
