// The app reads everything live from the API in the browser; the server only serves the shell.
export const ssr = false;
export const prerender = false;
