// The renderer: one build that runs in Electron (loaded from file://, hence relative URLs) and in the
// browser served by `vmdesk serve`. No inline scripts, so the page's CSP can forbid them.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  root: 'src-renderer',
  base: './',
  plugins: [vue()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    // noVNC 1.7 uses top-level await and class fields.
    target: 'es2022',
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2000,
  },
});
