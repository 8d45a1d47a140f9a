// Fans out the recorder's notifications (`updates.>` on core NATS) to this process's GraphQL
// subscribers. Every API replica holds one subscription, so a client on replica B sees what the
// recorder on replica A committed. Notifications carry ids only; subscribers re-read the rows.
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Topology } from 'runner/protocol';
import { Repeater } from 'graphql-yoga';
import { z } from 'zod';

const notificationSchema = z.object({ jobId: z.string(), runId: z.string(), status: z.string() });
export type Notification = z.infer<typeof notificationSchema>;

export class UpdatesHub {
  private readonly listeners = new Set<(n: Notification) => void>();
  private subscription: Subscription | null = null;

  constructor(
    private readonly nats: NatsConnection,
    private readonly topology: Topology,
  ) {}

  start(): void {
    this.subscription = this.nats.subscribe(this.topology.updates, {
      callback: (_err, msg) => {
        const parsed = notificationSchema.safeParse(safeJson(msg.string()));
        if (!parsed.success) return; // not ours to interpret; nothing to fan out
        for (const listener of this.listeners) listener(parsed.data);
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  /** Calls `listener` for every notification until the returned function is called. */
  listen(listener: (n: Notification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Ids of changed rows matching `key`, coalesced: however many notifications arrive, at most one
   * batch per `intervalMs`, each id once. `initial` ids are sent first (the current state).
   */
  changes(key: (n: Notification) => string | null, options: { initial?: string[]; intervalMs?: number } = {}): Repeater<string> {
    const intervalMs = options.intervalMs ?? 200;
    return new Repeater<string>(async (push, stop) => {
      const dirty = new Set<string>();
      let timer: NodeJS.Timeout | null = null;
      const flush = async () => {
        timer = null;
        const ids = [...dirty];
        dirty.clear();
        for (const id of ids) await push(id);
      };
      const listener = (n: Notification) => {
        const id = key(n);
        if (id === null) return;
        dirty.add(id);
        timer ??= setTimeout(() => void flush(), intervalMs);
      };
      // Listening before the current state is sent: a change committed while a slow subscriber
      // reads the initial ids is still delivered after them.
      this.listeners.add(listener);
      for (const id of options.initial ?? []) await push(id);
      await stop;
      this.listeners.delete(listener);
      if (timer) clearTimeout(timer);
    });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
