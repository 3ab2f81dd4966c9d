import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The admin console, bundled into dist/console and served by the service at /console/: the page
 * (index.html and its hashed script), and `dynamics365-components.js`, a stable name hosts load to
 * embed the components in their own pages.
 */
export default defineConfig({
  root: here('.'),
  base: '/console/',
  build: {
    outDir: here('../dist/console'),
    emptyOutDir: true,
    // No inline code anywhere: the page's Content-Security-Policy allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      input: { page: here('index.html'), components: here('src/index.ts') },
      output: {
        entryFileNames: (chunk) =>
          chunk.name === 'components' ? 'dynamics365-components.js' : 'assets/[name]-[hash].js',
      },
      preserveEntrySignatures: 'exports-only',
    },
  },
});
