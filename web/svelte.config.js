import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // The API process serves the built app (build/handler.js) on its own port, next to /graphql.
    adapter: adapter({ out: 'build', precompress: false }),
    // Sent as a header with every page; SvelteKit adds the hash or nonce of its inline start-up script.
    // Scripts only from this origin: markdown (task instructions) and agent output rendered into
    // pages cannot run anything even if the sanitiser missed it. Styles allow inline attributes
    // (Svelte's templates carry style="…"); the recording player needs WebAssembly; no page may be framed.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self', 'wasm-unsafe-eval'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:', 'blob:'],
        'font-src': ['self', 'data:'],
        'connect-src': ['self'],
        'worker-src': ['self', 'blob:'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['none'],
      },
    },
  },
};
