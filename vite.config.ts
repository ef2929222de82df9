// The renderer: one build that runs in Electron (loaded from file://, hence relative URLs) and in the
// browser served by `vmdesk serve`. No inline scripts, so the page's CSP can forbid them.
import { defineConfig, type BuildEnvironmentOptions } from 'vite';
import vue from '@vitejs/plugin-vue';
import components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';

export default defineConfig(({ isSsrBuild }) => ({
  root: 'src-renderer',
  base: './',
  plugins: [
    vue(),
    // Element Plus on demand: each <el-…> tag and v-loading of a template imports its one component
    // into the chunk of that template (a dialog's into the dialog's chunk). Styles are not imported
    // per component: src-renderer/element-styles.ts loads them ahead of VMDesk's own CSS (see there).
    // Our own components are imported by hand (dirs: none), and the types of the el-… tags come from
    // element-plus/global (tsconfig), so no generated .d.ts.
    components({ resolvers: [ElementPlusResolver({ importStyle: false })], dirs: [], dts: false }),
  ],
  // vue-i18n's esm-bundler build: Composition API only (the legacy API's code dropped), $t and <i18n-t>
  // installed globally, no devtools hook. Its messages are compiled to an AST and evaluated without
  // eval or new Function (the page's CSP forbids both; e2e/security.test.ts checks no violation).
  define: {
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
    __INTLIFY_DROP_MESSAGE_COMPILER__: 'false',
    // What differs when the page takes over a window the server drew (src-main/server/window-render.ts):
    // Vue says only that something did, unless built with VMDESK_HYDRATION_DETAILS=1 (for debugging).
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: process.env.VMDESK_HYDRATION_DETAILS === '1' ? 'true' : 'false',
  },
  // The server's build (`vite build --ssr entry-server.ts`, scripts/build.mjs) holds everything it
  // imports: `vmdesk serve` runs it from dist/, and the packaged app has no node_modules.
  ssr: { noExternal: true },
  build: isSsrBuild ? serverBuild : clientBuild,
}));

/** The page's build: served by `vmdesk serve`, loaded by Electron. */
const clientBuild: BuildEnvironmentOptions = {
  outDir: '../dist/renderer',
  emptyOutDir: true,
  // noVNC 1.7 uses top-level await and class fields.
  target: 'es2022',
  modulePreload: { polyfill: false },
  chunkSizeWarningLimit: 2000,
  // What the main window needs to show its list is one file (the entry and every module it imports
  // statically), not some thirty small shared chunks: over `vmdesk serve` each is a request of its
  // own, and their round trips, not their size, were most of the wait. Dialogs, the console view
  // and the graphs stay in chunks loaded on demand.
  rolldownOptions: { output: { codeSplitting: { groups: [{ name: 'main', tags: ['$initial'] }] } } },
};

/** The build for Node that draws the main window on the server (src-renderer/entry-server.ts; src-main/server/window-render.ts). */
const serverBuild: BuildEnvironmentOptions = {
  outDir: '../dist/renderer-ssr',
  emptyOutDir: true,
  target: 'node20',
  rolldownOptions: { output: { entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' } },
};
