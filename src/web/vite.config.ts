import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The UI is served by the Marquee server, possibly under a reverse-proxy sub-path
// (MARQUEE_BASE_URL). `base: './'` keeps every asset URL relative to index.html, and the
// server rewrites <meta name="marquee-base"> so the app can build its API URLs.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    // No source maps in the production build: they would publish the whole UI source (1.3 MB).
    // `vite build --sourcemap` (or the dev server, which maps on the fly) when debugging.
    sourcemap: false,
  },
  server: {
    // `npx vite --config src/web/vite.config.ts` during development: forward the API to a running
    // Marquee (`npm run demo -- --port 8080`: the real server over the simulators).
    proxy: { '/api': process.env.MARQUEE_DEV_API ?? 'http://127.0.0.1:8080' },
  },
});
