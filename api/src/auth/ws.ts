// WebSocket authentication: a socket proves who it is once, in graphql-ws `onConnect` (the
// `connection_init` payload's `authorization: "Bearer …"`, or the session cookie of the upgrade
// request). Credentials can end while a socket is open, so every open socket's credential is
// re-checked every `recheckMs` and at once when this process revokes one; an ended one closes
// its socket with 4401 and every subscription on it.
import type { IncomingMessage } from 'node:http';
import type { Db } from '../db/client.js';
import { authenticate, recheck, type AuthResult } from './authenticate.js';
import { unauthenticatedMessage } from './http.js';
import type { Viewer } from './viewer.js';

/** graphql-ws's close code for "Unauthorized". */
export const CLOSE_UNAUTHORIZED = 4401;

interface Closable {
  close(code: number, reason: string): void;
}

/** A close reason must fit in 123 bytes. */
function reason(text: string): string {
  return Buffer.byteLength(text) <= 123 ? text : `${Buffer.from(text).subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '')}...`;
}

export class SocketAuth {
  private readonly open = new Map<Closable, Viewer>();
  private readonly timer: NodeJS.Timeout;
  private sweeping: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Db,
    recheckMs: number,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.timer = setInterval(() => this.sweep(), recheckMs);
    this.timer.unref();
  }

  /** The socket's viewer, or null after closing it with 4401 and the reason. */
  async connect(socket: Closable, request: IncomingMessage, params: Record<string, unknown> | undefined): Promise<Viewer | null> {
    const header = params?.authorization ?? params?.Authorization;
    const result: AuthResult =
      header !== undefined && typeof header !== 'string'
        ? { viewer: null, problem: 'connection_init payload authorization must be a string "Bearer <token>"' }
        : await authenticate(this.db, {
            authorization: (header as string | undefined) ?? null,
            cookie: request.headers.cookie ?? null,
          });
    if (!result.viewer) {
      socket.close(CLOSE_UNAUTHORIZED, reason(unauthenticatedMessage(result)));
      return null;
    }
    this.open.set(socket, result.viewer);
    return result.viewer;
  }

  disconnect(socket: Closable): void {
    this.open.delete(socket);
  }

  /** Re-checks every open socket now (a revoke, a logout, a user disabled); coalesces bursts. */
  sweep(): void {
    if (this.sweeping) {
      this.again = true;
      return;
    }
    this.sweeping = this.run()
      .catch((error: Error) => this.log(`WebSocket credential check failed: ${error.message}`))
      .finally(() => {
        this.sweeping = null;
        if (this.again) {
          this.again = false;
          this.sweep();
        }
      });
  }

  private async run(): Promise<void> {
    for (const [socket, viewer] of [...this.open]) {
      const result = await recheck(this.db, viewer);
      if (!result.viewer) {
        this.open.delete(socket);
        socket.close(CLOSE_UNAUTHORIZED, reason(result.problem ?? 'credential ended'));
      } else {
        // The same object every subscription's context holds: a role change applies to them too.
        viewer.role = result.viewer.role;
        viewer.name = result.viewer.name;
      }
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
