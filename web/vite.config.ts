import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev -w web` proxies the API's paths to a running platform (API_URL, default :4000).
const api = process.env.API_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    proxy: {
      '/graphql': { target: api, ws: true },
      '^/runs/[^/]+/(log|files\\.zip|recording\\.cast|files/.*)$': { target: api },
      '^/jobs/[^/]+/(runs|tasks)\\.(csv|json)$': { target: api },
      '^/datasets/[^/]+/leaderboard\\.(csv|json)$': { target: api },
    },
  },
});
