import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // The API process serves the built app (build/handler.js) on its own port, next to /graphql.
    adapter: adapter({ out: 'build', precompress: false }),
  },
};
