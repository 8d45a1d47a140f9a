// Who may publish and subscribe to what on NATS (DESIGN.md §7): one source of truth, derived from
// the topology, for the committed nats.conf, the embedded server `npm start` runs and the tests.
// Deny by default: each role gets exactly the subjects its code uses, found by running the platform
// against a server with these permissions and reading the violations it logs.
//
// - The API publishes orders, writes `cancelled`, publishes `updates.>` and log lines of its own
//   (the reconciler's), asks runners to cancel, and administers its streams and consumers. It cannot
//   publish lifecycle events nor put a heartbeat, so it cannot impersonate a runner.
// - A runner reads orders through the consumers of the pools it serves (pools.ts), publishes events, logs and its heartbeat,
//   answers cancel requests and reads `cancelled`. It cannot publish orders or `updates.>`, write
//   `cancelled`, or update, purge or delete a stream or consumer. It may create a stream that is
//   missing (a runner started before any API), which never alters an existing one.
import { GIVEN_UP_CONSUMER, RECORDER_CONSUMER, RUNNERS_CONSUMER, maxDeliveriesStream } from './streams.js';
import type { Topology } from './topology.js';

export type NatsRole = 'api' | 'runner';

export interface RolePermissions {
  publish: string[];
  subscribe: string[];
  /** May answer requests it received (cancel requests), whatever their reply subject. */
  allowResponses: boolean;
}

/**
 * Each role's replies and consumer deliveries come to its own inbox prefix, so a runner cannot read
 * the API's replies (and the reverse). Both sides connect with `inboxPrefix` set to this.
 */
export function inboxPrefix(role: NatsRole): string {
  return `_INBOX_${role}`;
}

const API = '$JS.API';

/** Stream info and create; update only for the owner (the API), since an update can change a stream's subjects and limits. */
function streamAdmin(names: string[], update: boolean): string[] {
  return names.flatMap((s) => [`${API}.STREAM.INFO.${s}`, `${API}.STREAM.CREATE.${s}`, ...(update ? [`${API}.STREAM.UPDATE.${s}`] : [])]);
}

// nats.js on a 2.9+ server creates and updates every consumer with CONSUMER.CREATE.<stream>.<name>
// (and a filter subject after the name when there is one); the older DURABLE.CREATE and unnamed
// CONSUMER.CREATE.<stream> forms are for servers before 2.9 and stay closed.

/** A durable consumer's set-up, pulls and acks. */
function durableConsumer(stream: string, consumer: string): string[] {
  return [
    `${API}.CONSUMER.INFO.${stream}.${consumer}`,
    `${API}.CONSUMER.CREATE.${stream}.${consumer}`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    `$JS.ACK.${stream}.${consumer}.>`,
  ];
}

/**
 * The runners' consumers on RUNS: the legacy one (filtered to the old subjects) and one per pool,
 * created by the runners that serve the pool, each filtered to its pool's orders. A pool consumer's
 * name is `runners-<pool>`, which NATS permissions cannot match by prefix: any name is allowed, with
 * a filter of the pooled shape only, so a runner cannot make an unfiltered consumer on RUNS.
 */
function runnerConsumers(t: Topology): string[] {
  const runs = t.streams.runs.name;
  return [
    `${API}.CONSUMER.CREATE.${runs}.${RUNNERS_CONSUMER}.${t.poolOrders()}`,
    // Only to filter the unfiltered consumer older runners left (streams.ts ensureLegacyConsumer).
    `${API}.CONSUMER.DELETE.${runs}.${RUNNERS_CONSUMER}`,
    `${API}.CONSUMER.CREATE.${runs}.*.${t.poolOrders('x').replace(/\.x\./, '.*.')}`,
    `${API}.CONSUMER.INFO.${runs}.*`,
    `${API}.CONSUMER.MSG.NEXT.${runs}.*`,
    `$JS.ACK.${runs}.*.>`,
  ];
}

/** Short-lived ordered consumers with generated names: KV watches and key listings, log replays and the live log feed. */
function orderedConsumers(stream: string): string[] {
  return [
    `${API}.CONSUMER.CREATE.${stream}.>`,
    `${API}.CONSUMER.INFO.${stream}.*`,
    `${API}.CONSUMER.MSG.NEXT.${stream}.*`,
    // An ordered consumer that falls behind is deleted and made again from where it was.
    `${API}.CONSUMER.DELETE.${stream}.*`,
    // Flow control replies of push consumers.
    `$JS.FC.${stream}.>`,
  ];
}

/** Single-message reads: by sequence or last by subject (KV get, a log's newest chunk, an order's copy). */
function messageReads(stream: string): string[] {
  return [`${API}.STREAM.MSG.GET.${stream}`, `${API}.DIRECT.GET.${stream}`, `${API}.DIRECT.GET.${stream}.>`];
}

const kvStream = (bucket: string) => `KV_${bucket}`;

/**
 * The permissions of each role for a deployment's topology. `runnerId`: narrows the heartbeat a
 * runner may write to its own key (a user per runner); without it any runner key.
 */
export function natsPermissions(t: Topology, options: { runnerId?: string } = {}): Record<NatsRole, RolePermissions> {
  const runs = t.streams.runs.name;
  const events = t.streams.events.name;
  const logs = t.streams.logs.name;
  const givenUp = maxDeliveriesStream(t).name;
  const runners = kvStream(t.runnersBucket);
  const cancelled = kvStream(t.cancelledBucket);
  const allStreams = [runs, events, logs, givenUp, runners, cancelled];
  const cancelSubjects = t.cancelRun('x').replace(/x$/, '*');
  const heartbeat = `$KV.${t.runnersBucket}.${options.runnerId ?? '>'}`;

  return {
    api: {
      publish: [
        `${API}.INFO`,
        ...streamAdmin(allStreams, true),
        ...messageReads(runs),
        // The recorder removes an order that ran out of deliveries, the reconciler a stale copy.
        `${API}.STREAM.MSG.DELETE.${runs}`,
        // The reconciler reads how far each pool's consumer got and the runners' ack wait.
        `${API}.CONSUMER.INFO.${runs}.*`,
        `${API}.CONSUMER.LIST.${runs}`,
        ...durableConsumer(events, RECORDER_CONSUMER),
        ...durableConsumer(givenUp, GIVEN_UP_CONSUMER),
        ...messageReads(logs),
        ...orderedConsumers(logs),
        ...messageReads(runners),
        ...orderedConsumers(runners),
        ...messageReads(cancelled),
        ...t.streams.runs.subjects,
        ...t.streams.logs.subjects,
        `$KV.${t.cancelledBucket}.*`,
        t.updates,
        cancelSubjects,
      ],
      subscribe: [`${inboxPrefix('api')}.>`, t.updates],
      allowResponses: false,
    },
    runner: {
      publish: [
        `${API}.INFO`,
        ...streamAdmin(allStreams, false),
        ...runnerConsumers(t),
        ...messageReads(cancelled),
        ...t.streams.events.subjects,
        ...t.streams.logs.subjects,
        heartbeat,
      ],
      subscribe: [`${inboxPrefix('runner')}.>`, cancelSubjects],
      allowResponses: true,
    },
  };
}
