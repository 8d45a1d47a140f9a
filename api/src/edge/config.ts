// Settings of the hardened edge (README "Configuration"): who may call the API from a browser, which
// Host names it answers to, and how large a request or a query may be. Parsed with the rest of the
// environment in config/env.ts; this file holds the variables so the edge's settings stay together.
import { z } from 'zod';

const origin = (v: string) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol) && new URL(v).origin === v.replace(/\/$/, '');
const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const limit = (what: string) => z.coerce.number({ error: `a number of ${what}` }).int(`a whole number of ${what}`).min(1, 'at least 1');

export const edgeEnv = {
  PUBLIC_URL: z
    .string()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), 'an http(s) URL like https://thr.example.com')
    .optional(),
  CORS_ORIGINS: z
    .string()
    .refine((v) => list(v).every(origin), 'comma-separated origins like https://notebooks.example.com (scheme, host, port; no path)')
    .optional(),
  ALLOWED_HOSTS: z
    .string()
    .refine((v) => list(v).every((h) => /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(h)), 'comma-separated host names, each optionally with :port')
    .optional(),
  GRAPHIQL: z.enum(['true', 'false'], { error: 'true or false' }).default('true'),
  MAX_BODY_BYTES: limit('bytes').default(1024 * 1024),
  QUERY_MAX_DEPTH: limit('levels').default(12),
  QUERY_MAX_COST: limit('cost units').default(50_000),
  QUERY_MAX_ALIASES: limit('aliases').default(30),
  QUERY_MAX_DIRECTIVES: limit('directives').default(50),
  QUERY_MAX_TOKENS: limit('tokens').default(5_000),
  QUERY_DEFAULT_PAGE: limit('items').default(100),
};

export interface QueryLimits {
  maxDepth: number;
  /** Each field costs 1; a field taking `first`/`last` multiplies what it selects by that count. */
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** The count assumed for a paged field queried without `first`/`last` (the connections' default size). */
  defaultPage: number;
}

export interface EdgeConfig {
  /** Where people reach the platform (behind a proxy: the proxy's URL); its host is always served. */
  publicUrl: URL | null;
  /** Origins whose pages may call the API with credentials (CORS and WebSocket Origin). */
  corsOrigins: string[];
  /** Host names (optionally host:port) served besides PUBLIC_URL's host and the loopback names. */
  allowedHosts: string[];
  graphiql: boolean;
  /** Largest JSON (non-multipart) request body; multipart requests are held to UPLOAD_MAX_REQUEST_MB. */
  maxBodyBytes: number;
  query: QueryLimits;
}

type EdgeEnv = z.infer<z.ZodObject<typeof edgeEnv>>;

export function edgeConfig(v: EdgeEnv): EdgeConfig {
  const publicUrl = v.PUBLIC_URL ? new URL(v.PUBLIC_URL) : null;
  // Default: the platform's own origin only. Same-origin requests need no CORS headers, so without
  // PUBLIC_URL no origin gets any.
  const corsOrigins = v.CORS_ORIGINS ? list(v.CORS_ORIGINS).map((o) => new URL(o).origin) : publicUrl ? [publicUrl.origin] : [];
  return {
    publicUrl,
    corsOrigins,
    allowedHosts: v.ALLOWED_HOSTS ? list(v.ALLOWED_HOSTS).map((h) => h.toLowerCase()) : [],
    graphiql: v.GRAPHIQL === 'true',
    maxBodyBytes: v.MAX_BODY_BYTES,
    query: {
      maxDepth: v.QUERY_MAX_DEPTH,
      maxCost: v.QUERY_MAX_COST,
      maxAliases: v.QUERY_MAX_ALIASES,
      maxDirectives: v.QUERY_MAX_DIRECTIVES,
      maxTokens: v.QUERY_MAX_TOKENS,
      defaultPage: v.QUERY_DEFAULT_PAGE,
    },
  };
}

/** The settings with every variable unset, for tools and tests that check against the defaults. */
export const defaultEdgeConfig = (): EdgeConfig => edgeConfig(z.object(edgeEnv).parse({}));
