import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import tailwindcss from '@tailwindcss/vite';

// The Go server serves dist/ (embedded); in development Vite serves the app
// and forwards the API to a server started with `go run ./cmd/callboard`.
const api = process.env.CALLBOARD_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [tailwindcss(), svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true, // dist/.vite/manifest.json: the chunk graph the size budget reads (not served)
    assetsInlineLimit: 0, // fonts and images stay files: the CSP allows no data: fonts
    modulePreload: { polyfill: false },
    target: 'es2022',
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: { '/api': api, '/media': api, '/openapi.json': api, '/swagger': api },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
