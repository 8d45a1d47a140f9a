// The web app (web/, built by SvelteKit's adapter-node) is served by the API process on the same
// port, so the browser talks to one origin for pages, GraphQL, WebSocket and downloads.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WebHandler } from './app.js';

export async function loadWebApp(webDir: string, log: (line: string) => void): Promise<WebHandler | undefined> {
  const file = path.join(webDir, 'handler.js');
  if (!existsSync(file)) {
    log(`web app not built (no ${file}); serving the API only. Build it with \`npm run build -w web\``);
    return undefined;
  }
  const module = (await import(pathToFileURL(file).href)) as { handler?: WebHandler };
  if (typeof module.handler !== 'function') throw new Error(`${file} does not export a handler; rebuild the web app`);
  return module.handler;
}
