// The API as one HTTP server: GraphQL over HTTP (graphql-yoga) and graphql-ws subscriptions on the
// same port and path. WebSocket operations run through yoga.getEnveloped, so both transports share
// plugins, schema and context. Downloads have their own paths; every other path goes to the web app
// when one is mounted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from '@nats-io/transport-node';
import { GraphQLError, type ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createYoga, maskError, type YogaServerInstance } from 'graphql-yoga';
import { createFetch } from '@whatwg-node/fetch';
import { WebSocketServer } from 'ws';
import type { Topology } from 'runner/protocol';
import { hostPathPlaceholders } from 'runner/secrets';
import { authenticate } from './auth/authenticate.js';
import { clientIpOf, cookieJar, handleLoginLink, requireDownloadViewer } from './auth/http.js';
import { refuseAnonymousIntrospection } from './auth/introspection.js';
import type { Viewer } from './auth/viewer.js';
import { SocketAuth } from './auth/ws.js';
import type { Db } from './db/client.js';
import type { Context } from './schema/context.js';
import { UpdatesHub } from './live/hub.js';
import { LiveLogFeed } from './logs/feed.js';
import { handleExport } from './exports/http.js';
import { handleLeaderboardExport } from './leaderboard/http.js';
import { handleDownload } from './logs/http.js';
import { handleTrialFile } from './trials/http.js';
import { handleTaskOriginal } from './tasks/http.js';
import { trialScrubbers } from './trials/secrets.js';
import { DomainError } from './schema/errors.js';
import { defaultEdgeConfig } from './edge/config.js';
import { createEdge, type EdgeConfig } from './edge/index.js';
import { setSecurityHeaders } from './edge/headers.js';
import { handleGraphiQLAsset, renderGraphiQLPage } from './graphiql/page.js';
import type { TaskStore } from './tasks/store.js';
import type { UploadLimits } from './tasks/upload.js';
import { toSchema } from './schema/index.js';
import { DEFAULT_LAUNCH_SETTINGS, type LaunchSettings } from './jobs/launch-policy.js';

export interface AppDeps {
  db: Db;
  nats: NatsConnection;
  topology: Topology;
  taskStore: TaskStore;
  uploadLimits: UploadLimits;
  secretsKey: Buffer | null;
  /** The server's default provider keys in clear (DEFAULT_<VAR>): scrubbed from served trial files like a job's own key. */
  defaultProviderKeys?: string[];
  /** What launches may do (launch-policy.ts); absent: the defaults (no custom agents, endpoint overrides for ADMIN). */
  launchSettings?: LaunchSettings;
  /** TASKS_DIR: shown as `$TASKS_DIR` in served files, never as the real path. */
  tasksDir?: string;
  /** Where runners keep Harbor's job directories (shared storage), for trial file downloads. */
  jobsDir: string;
  /** DATASET_IMPORT_ROOT: the folder importDataset may read; absent: importing is off. */
  datasetImportRoot?: string | null;
  /** Wakes the dispatcher after a mutation wrote runs; a no-op where none runs. */
  kickDispatcher?: () => void;
  /** Serves the web app for every path the API does not own; absent, those paths get 404. */
  web?: WebHandler;
  /** How long open requests and sockets get to finish on stop before they are cut. */
  shutdownGraceMs?: number;
  /** CORS, Host, GraphiQL and request limits (config/env.ts); absent: the defaults. */
  edge?: EdgeConfig;
  /** Where failed requests are reported; default stderr. */
  log?: (line: string) => void;
  /** Sign-in settings; defaults suit a plain-http local start. */
  auth?: AuthOptions;
}

export interface AuthOptions {
  /** Session cookies get `Secure` (PUBLIC_URL is https). */
  secureCookies?: boolean;
  /** How often open WebSockets re-check their credential (revokes on this process act at once). */
  wsRecheckMs?: number;
}

export interface App {
  yoga: YogaServerInstance<Record<string, never>, Context>;
  server: Server;
  /** Listens and resolves with the GraphQL endpoint URL. */
  start(port: number, host: string): Promise<string>;
  stop(): Promise<void>;
}

export const GRAPHQL_PATH = '/graphql';

/** A connect-style handler, as SvelteKit's adapter-node exports from build/handler.js. */
export type WebHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export function buildApp(deps: AppDeps): App {
  const hub = new UpdatesHub(deps.nats, deps.topology);
  hub.start();
  // One live feed of LOGS per process, shared by every runLog subscriber (logs/feed.ts); it opens
  // its consumer at the first subscriber and closes it on stop, like the hub's subscription.
  const logFeed = new LiveLogFeed(deps.nats, deps.topology);
  const scrubbers = trialScrubbers({
    secretsKey: deps.secretsKey,
    defaultProviderKeys: deps.defaultProviderKeys ?? [],
    hostPaths: hostPathPlaceholders({ tasksDir: deps.tasksDir, jobsDir: deps.jobsDir }),
  });
  const secureCookies = deps.auth?.secureCookies ?? false;
  const sockets = new SocketAuth(deps.db, deps.auth?.wsRecheckMs ?? 30_000);
  const cookies = cookieJar();
  // HTTP requests authenticate here; WebSocket operations bring the viewer their socket proved in onConnect.
  const context = async (initial: { request?: Request; req?: IncomingMessage; socketViewer?: Viewer }): Promise<Context> => {
    const auth =
      initial.socketViewer !== undefined
        ? { viewer: initial.socketViewer, problem: null }
        : await authenticate(deps.db, {
            authorization: initial.request?.headers.get('authorization'),
            cookie: initial.request?.headers.get('cookie'),
          });
    return {
      hub,
      logFeed,
      db: deps.db,
      nats: deps.nats,
      topology: deps.topology,
      taskStore: deps.taskStore,
      uploadLimits: deps.uploadLimits,
      secretsKey: deps.secretsKey,
      jobsDir: deps.jobsDir,
      datasetImportRoot: deps.datasetImportRoot ?? null,
      trialScrubbers: scrubbers,
      launchSettings: deps.launchSettings ?? DEFAULT_LAUNCH_SETTINGS,
      kickDispatcher: deps.kickDispatcher ?? (() => {}),
      signal: initial.request?.signal,
      viewer: auth.viewer,
      authProblem: auth.problem,
      clientIp: clientIpOf(initial.req),
      userAgent: initial.request?.headers.get('user-agent') ?? initial.req?.headers['user-agent'] ?? null,
      setCookie: cookies.setter(initial.request),
      secureCookies,
      credentialsChanged: () => sockets.sweep(),
    };
  };
  const edge = createEdge(deps.edge ?? defaultEdgeConfig(), {
    graphqlPath: GRAPHQL_PATH,
    maxUploadBytes: deps.uploadLimits.maxRequestBytes,
    log: deps.log ?? ((line) => console.error(`[api] ${line}`)),
  });
  const yoga = createYoga<Record<string, never>, Context>({
    schema: toSchema(),
    plugins: [...edge.yogaPlugins, cookies.plugin, refuseAnonymousIntrospection()],
    // Cross-origin callers are answered by the edge (CORS_ORIGINS), never by reflecting their Origin.
    cors: false,
    graphqlEndpoint: GRAPHQL_PATH,
    context,
    // Multipart uploads are read into memory by the server; these caps bound that (README "Configuration").
    fetchAPI: createFetch({
      formDataLimits: {
        fileSize: deps.uploadLimits.maxZipBytes,
        files: deps.uploadLimits.maxFiles,
        fieldSize: 10 * 1024 * 1024,
      },
    }),
    maskedErrors: {
      // Deliberate failures keep their message and carry their code; anything else stays masked.
      maskError: (error, message, isDev) => {
        const original = error instanceof GraphQLError ? error.originalError : undefined;
        if (original instanceof DomainError && error instanceof GraphQLError) {
          // The same error, coded in place: yoga logs every error its mask replaces, and refusals
          // (UNAUTHENTICATED, FORBIDDEN) are expected traffic, not faults to log.
          (error.extensions as Record<string, unknown>).code = original.code;
          return error;
        }
        return maskError(error, message, isDev);
      },
    },
    // GraphiQL for signed-in users only (the page's requests carry the session cookie); GRAPHIQL=false turns it off.
    graphiql: async (request) =>
      edge.graphiql &&
      (await authenticate(deps.db, { authorization: request.headers.get('authorization'), cookie: request.headers.get('cookie') })).viewer !== null
        ? { subscriptionsProtocol: 'WS', title: 'Terminal-Bench Harbor Runner' }
        : false,
    // Its assets from this server (graphiql/page.ts): yoga's own page loads them from a CDN.
    renderGraphiQL: renderGraphiQLPage,
    landingPage: false,
    logging: 'warn',
  });
  const graphiqlAssets = {
    enabled: edge.graphiql,
    signedIn: async (req: IncomingMessage, res: ServerResponse) => {
      // The page's CSP, not a download's: the editor's workers run under their script's policy.
      setSecurityHeaders(res, 'graphql');
      return (await requireDownloadViewer(deps.db, req, res)) !== null;
    },
  };
  const graphql = (req: IncomingMessage, res: ServerResponse) => {
    const limited = edge.limitBody(req, res);
    if (limited) return yoga(limited, res);
  };
  const server = createServer(
    edge.serve((req, res) => {
      if (handleLoginLink({ db: deps.db, secureCookies }, req, res)) return;
      if (handleDownload({ db: deps.db, nats: deps.nats, topology: deps.topology }, req, res)) return;
      if (handleExport({ db: deps.db, scrubbers }, req, res)) return;
      if (handleLeaderboardExport({ db: deps.db }, req, res)) return;
      if (handleTrialFile({ db: deps.db, jobsDir: deps.jobsDir, scrubbers }, req, res)) return;
      if (handleTaskOriginal({ db: deps.db, store: deps.taskStore }, req, res)) return;
      if (handleGraphiQLAsset(graphiqlAssets, req, res)) return;
      const pathname = (req.url ?? '/').split('?', 1)[0];
      if (!deps.web || pathname === GRAPHQL_PATH) return graphql(req, res);
      setSecurityHeaders(res, 'web');
      deps.web(req, res, () => void graphql(req, res));
    }),
  );
  const wsServer = new WebSocketServer({ server, path: GRAPHQL_PATH, verifyClient: edge.verifyClient });
  const wsDisposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args as ExecutionArgs) as never,
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args as ExecutionArgs) as never,
      onConnect: async (ctx) => {
        const viewer = await sockets.connect(ctx.extra.socket, ctx.extra.request, ctx.connectionParams);
        if (!viewer) return false;
        (ctx.extra as { viewer?: Viewer }).viewer = viewer;
        return true;
      },
      onClose: (ctx) => sockets.disconnect(ctx.extra.socket),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          socketViewer: (ctx.extra as { viewer?: Viewer }).viewer ?? null,
        });
        let document;
        try {
          document = parse(params.query);
        } catch (error) {
          return [error as never];
        }
        // The query limits (edge/query-limits.ts) may throw their refusal from validation.
        let errors;
        try {
          errors = validate(schema, document);
        } catch (error) {
          return [error as never];
        }
        if (errors.length > 0) return errors;
        return {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
      },
    },
    wsServer,
    // Keep-alive pings find dead peers behind proxies that drop idle connections.
    12_000,
  );

  let stopping: Promise<void> | undefined;
  return {
    yoga,
    server,
    start: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const { port: bound } = server.address() as AddressInfo;
          edge.bind(host, bound);
          resolve(`http://${host.includes(':') ? `[${host}]` : host}:${bound}${GRAPHQL_PATH}`);
        });
      }),
    stop: () =>
      (stopping ??= (async () => {
        // Close sockets with 1001 "Going away" so clients reconnect elsewhere.
        await wsDisposable.dispose();
        wsServer.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), deps.shutdownGraceMs ?? 10_000);
        await closed;
        clearTimeout(grace);
        hub.stop();
        await sockets.stop();
        await logFeed.stop();
        await yoga.dispose();
      })()),
  };
}
