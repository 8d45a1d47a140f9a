import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { builder } from '../schema/builder.js';
import {
  checkHealth,
  jetStreamHealth,
  queueHealth,
  runnersHealth,
  type ComponentHealth,
  type ConsumerHealth,
  type Health,
  type JetStreamHealth,
  type QueueHealth,
  type RunnersHealth,
  type StreamHealth,
} from './service.js';

const ComponentHealthRef = builder.objectRef<ComponentHealth>('ComponentHealth').implement({
  description: 'Whether one dependency of the API answers.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    latencyMs: t.exposeFloat('latencyMs', { nullable: true, description: 'Round trip of the check, when it succeeded.' }),
    message: t.exposeString('message', { nullable: true, description: 'What answered, or why the check failed.' }),
  }),
});

// Issue 18 (deploy): the cluster, runners and queue for `npm run health`. Signed-in callers only (an
// anonymous load balancer gets null), since they name servers and pools.
const StreamHealthRef = builder.objectRef<StreamHealth>('StreamHealth').implement({
  description: 'A JetStream stream as its cluster sees it.',
  fields: (t) => ({
    name: t.exposeString('name'),
    replicas: t.exposeInt('replicas', { description: 'Copies it is configured with (NATS_STREAM_REPLICAS).' }),
    cluster: t.exposeString('cluster', { nullable: true, description: 'The JetStream cluster; null on a single server.' }),
    leader: t.exposeString('leader', { nullable: true, description: 'The server leading it; null on a single server or while no leader is elected.' }),
    currentFollowers: t.exposeInt('currentFollowers', { description: 'Followers caught up and seen recently.' }),
    laggingFollowers: t.exposeInt('laggingFollowers', { description: 'Followers offline or behind.' }),
    maxLag: t.exposeFloat('maxLag', { description: 'The most operations any follower is behind the leader.' }),
    messages: t.exposeFloat('messages'),
  }),
});

const ConsumerHealthRef = builder.objectRef<ConsumerHealth>('ConsumerHealth').implement({
  description: 'A durable consumer; on RUNS, one per pool of run orders.',
  fields: (t) => ({
    stream: t.exposeString('stream'),
    name: t.exposeString('name'),
    pending: t.exposeInt('pending', { description: 'Not yet delivered: on RUNS, orders waiting for a runner of the pool.' }),
    ackPending: t.exposeInt('ackPending', { description: 'Delivered, not yet acknowledged.' }),
  }),
});

const JetStreamHealthRef = builder.objectRef<JetStreamHealth>('JetStreamHealth').implement({
  description: "RUNS, EVENTS and LOGS and RUNS' consumers.",
  fields: (t) => ({
    streams: t.expose('streams', { type: [StreamHealthRef] }),
    consumers: t.expose('consumers', { type: [ConsumerHealthRef] }),
  }),
});

const RunnersHealthRef = builder.objectRef<RunnersHealth>('RunnersHealth').implement({
  description: 'Runners by state (those that beat within the last hour), and the slots of those not lost.',
  fields: (t) => ({
    live: t.exposeInt('live'),
    draining: t.exposeInt('draining'),
    degraded: t.exposeInt('degraded'),
    lost: t.exposeInt('lost'),
    slots: t.exposeInt('slots'),
    busy: t.exposeInt('busy'),
  }),
});

const QueueHealthRef = builder.objectRef<QueueHealth>('QueueHealth').implement({
  description: 'Runs waiting for a runner.',
  fields: (t) => ({
    runsQueued: t.exposeInt('runsQueued'),
    oldestQueuedAt: t.expose('oldestQueuedAt', { type: 'DateTime', nullable: true, description: 'When the oldest of them was created; null when none waits.' }),
  }),
});

const HealthRef = builder.objectRef<Health>('Health').implement({
  description: 'The state of the API and what it depends on.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'True when every dependency is ok.' }),
    version: t.exposeString('version', { description: 'Platform version.' }),
    database: t.expose('database', { type: ComponentHealthRef, description: 'PostgreSQL.' }),
    nats: t.expose('nats', { type: ComponentHealthRef, description: 'NATS with JetStream.' }),
    checkedAt: t.expose('checkedAt', { type: 'DateTime' }),
    jetStream: t.field({
      type: JetStreamHealthRef,
      nullable: true,
      description: 'Stream replicas, leaders, follower lag and pending orders per pool; null for anonymous callers or when NATS does not answer.',
      resolve: (health, _args, ctx) => (ctx.viewer && health.nats.ok ? jetStreamHealth(ctx).catch(() => null) : null),
    }),
    runners: t.field({
      type: RunnersHealthRef,
      nullable: true,
      description: 'Runners by state; null for anonymous callers or when NATS does not answer.',
      resolve: (health, _args, ctx) => (ctx.viewer && health.nats.ok ? runnersHealth(ctx).catch(() => null) : null),
    }),
    queue: t.field({
      type: QueueHealthRef,
      nullable: true,
      description: 'Runs waiting for a runner; null for anonymous callers or when the database does not answer.',
      resolve: (health, _args, ctx) => (ctx.viewer && health.database.ok ? queueHealth(ctx).catch(() => null) : null),
    }),
  }),
});

builder.queryField('health', (t) =>
  t.field({
    type: HealthRef,
    description: 'Checks the database and NATS now. Open to anonymous callers, for load balancers and `npm start`.',
    skipTypeScopes: true,
    authScopes: { public: true },
    resolve: (_root, _args, ctx) => checkHealth(ctx),
  }),
);

builder.subscriptionField('health', (t) =>
  t.field({
    type: HealthRef,
    description: 'The health now, then again every `intervalSeconds`, for status indicators.',
    args: {
      intervalSeconds: t.arg.int({ required: true, defaultValue: 5, description: 'Seconds between checks, 1 to 300.' }),
    },
    subscribe: (_root, { intervalSeconds }, ctx) => {
      if (intervalSeconds < 1 || intervalSeconds > 300) {
        throw new GraphQLError(`intervalSeconds must be between 1 and 300, got ${intervalSeconds}`, {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      // A Repeater stops its timer as soon as the client unsubscribes, not at the next tick.
      return new Repeater<Health>(async (push, stop) => {
        const tick = async () => {
          await push(await checkHealth(ctx));
        };
        await tick();
        const timer = setInterval(() => void tick(), intervalSeconds * 1000);
        await stop;
        clearInterval(timer);
      });
    },
    resolve: (health) => health,
  }),
);
