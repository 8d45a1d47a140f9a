// Turns connection failures into one line a person can act on, instead of a stack trace.
import pg from 'pg';

interface SystemError {
  code?: string;
  message?: string;
  address?: string;
  port?: number;
}

export function explainConnectionError(error: unknown): string {
  const e = (error ?? {}) as SystemError & { errors?: SystemError[] };
  // Node's happy-eyeballs connect reports an AggregateError with one entry per address tried.
  const first = e.errors?.[0] ?? e;
  switch (first.code) {
    case 'ECONNREFUSED':
      return `nothing is listening at ${first.address}:${first.port} (is the server running?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the host name cannot be resolved (${first.message})`;
    case 'ETIMEDOUT':
      return `the connection timed out (${first.message})`;
    case '3D000':
      return `${first.message} (create it, or point DATABASE_URL at an existing database)`;
    case '28P01':
    case '28000':
      return `the server refused the credentials (${first.message})`;
    default:
      return prismaReason((error as Error)?.message ?? String(error));
  }
}

/** Prisma wraps driver errors in several lines ("Invalid `prisma.$queryRaw()` invocation: … Message: `…`"); keep the reason. */
function prismaReason(message: string): string {
  const quoted = /Message: `([^`]*)`/.exec(message);
  if (quoted) return quoted[1]!;
  const lines = message.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? message;
}

/** Connects once with a plain driver to tell "unreachable" and "no such database" apart, clearly. */
export async function probeDatabase(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}
