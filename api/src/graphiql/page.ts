// GraphiQL served from the installed package, not a CDN: yoga's own page loads its bundle, styles and
// editor workers from unpkg.com, so on a machine without Internet access (or behind a proxy that
// blocks it) /graphql shows "Loading __TITLE__..." for ever. Here the page is ours and small; its
// assets come from @graphql-yoga/render-graphiql (the same GraphiQL, bundled into strings) under
// /graphiql/<content hash>/, cached for good by the browser, gzipped once on first request. Nothing
// in the page is inline script, so its CSP allows scripts from this origin only (edge/headers.ts).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';

export const GRAPHIQL_ASSETS_ROOT = '/graphiql/';

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');

interface Asset {
  type: string;
  body: Buffer;
  gzipped?: Promise<Buffer>;
}

interface Assets {
  /** `/graphiql/<hash>/`: a new GraphiQL version gets new URLs. */
  prefix: string;
  files: Map<string, Asset>;
}

/** Which file holds which of Monaco's workers (the labels its getWorkerUrl is called with). */
const WORKERS = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' } as const;

/** Runs before the bundle: Monaco reads its environment when it loads. Workers are same-origin files. */
const environmentScript = (prefix: string) =>
  `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: function (_moduleId, label) { return ${JSON.stringify(prefix)} + ${JSON.stringify(WORKERS)}[label]; } };\n`;

/** Runs after the bundle: the options come from a JSON element, so the page needs no inline script. */
const RENDER_SCRIPT = `\n;YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), JSON.parse(document.getElementById('graphiql-options').textContent));\n`;

let loading: Promise<Assets> | null = null;

/** The bundle is 9 MB of strings: loaded on the first GraphiQL request, not by every API start. */
function assets(): Promise<Assets> {
  return (loading ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle: Bundle) => {
    const hash = createHash('sha256');
    for (const part of [bundle.js, bundle.css, bundle.editorWorkerService, bundle.jsonWorker, bundle.graphqlWorker, bundle.favicon]) hash.update(part);
    const prefix = `${GRAPHIQL_ASSETS_ROOT}${hash.digest('hex').slice(0, 16)}/`;
    const js = 'text/javascript; charset=utf-8';
    const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon);
    const files = new Map<string, Asset>([
      ['graphiql.js', { type: js, body: Buffer.from(environmentScript(prefix) + bundle.js + RENDER_SCRIPT) }],
      ['graphiql.css', { type: 'text/css; charset=utf-8', body: Buffer.from(bundle.css) }],
      [WORKERS.editorWorkerService, { type: js, body: Buffer.from(bundle.editorWorkerService) }],
      [WORKERS.json, { type: js, body: Buffer.from(bundle.jsonWorker) }],
      [WORKERS.graphql, { type: js, body: Buffer.from(bundle.graphqlWorker) }],
    ]);
    if (favicon) files.set('favicon.ico', { type: favicon[1]!, body: Buffer.from(favicon[2]!, 'base64') });
    return { prefix, files };
  }));
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** yoga's `renderGraphiQL`: the page, referring only to this server's own URLs. */
export async function renderGraphiQLPage(options: { title?: string } & Record<string, unknown>): Promise<string> {
  const { prefix, files } = await assets();
  // `<` escaped, so no value can close the script element early.
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  const title = escapeHtml(options.title ?? 'GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    ${files.has('favicon.ico') ? `<link rel="icon" href="${prefix}favicon.ico" />` : ''}
    <link rel="stylesheet" href="${prefix}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options">${json}</script>
    <script src="${prefix}graphiql.js"></script>
  </body>
</html>
`;
}

const gzipped = promisify(gzip);

function notFound(res: ServerResponse, message: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

export interface GraphiQLAssetDeps {
  /** GRAPHIQL: when off, the assets are not served either. */
  enabled: boolean;
  /** Whether the request comes from a signed-in user; the page is for them only, and so are its files. */
  signedIn(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

/** Serves `/graphiql/<hash>/<file>`; returns false for any other request. */
export function handleGraphiQLAsset(deps: GraphiQLAssetDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const pathname = (req.url ?? '/').split('?', 1)[0]!;
  if (!pathname.startsWith(GRAPHIQL_ASSETS_ROOT) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  void (async () => {
    if (!deps.enabled) return notFound(res, 'GraphiQL is turned off on this server (GRAPHIQL=false)');
    if (!(await deps.signedIn(req, res))) return;
    const { prefix, files } = await assets();
    const asset = pathname.startsWith(prefix) ? files.get(pathname.slice(prefix.length)) : undefined;
    // Another hash is a page from before an upgrade: reloading it gets the current URLs.
    if (!asset) return notFound(res, `no GraphiQL file ${pathname}; reload the GraphiQL page`);
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? await (asset.gzipped ??= gzipped(asset.body)) : asset.body;
    res.writeHead(200, {
      'content-type': asset.type,
      'content-length': String(body.length),
      // The URL changes with the content: the browser keeps it. `private`: it was served to a signed-in user.
      'cache-control': 'private, max-age=31536000, immutable',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  })().catch((error: Error) => {
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`serving GraphiQL failed: ${error.message}\n`);
    } else res.destroy(error);
  });
  return true;
}
