// Publishing run events until JetStream has them. An outcome must never be given up while the
// runner lives (the order would be redelivered and the trial run again), so retries go on with
// capped, jittered backoff until the publish is acknowledged or the caller's signal ends them.
import type { JetStreamClient } from '@nats-io/jetstream';
import { encode, eventMsgId, type RunEvent, type Topology } from './protocol/index.js';

/** Longest wait between two tries: a NATS restart is noticed within it, and a long outage costs one line per wait. */
const MAX_BACKOFF_MS = 10_000;

export class PublishAborted extends Error {
  override name = 'PublishAborted';
}

export function eventPublisher(js: JetStreamClient, topology: Topology, log: (line: string) => void) {
  return async (event: RunEvent, signal?: AbortSignal): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await js.publish(topology.runEvent(event.jobId, event.runId), encode(event), { msgID: eventMsgId(event) });
        if (attempt > 1) log(`run ${event.runId}: ${event.type} event published after ${attempt} tries`);
        return;
      } catch (error) {
        if (signal?.aborted) throw new PublishAborted(`run ${event.runId}: ${event.type} event not published: ${(error as Error).message}`);
        const wait = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt) * (0.5 + Math.random());
        if (attempt === 1 || wait >= MAX_BACKOFF_MS / 2) log(`run ${event.runId}: publishing its ${event.type} event failed (${(error as Error).message}); retrying`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
      }
    }
  };
}
