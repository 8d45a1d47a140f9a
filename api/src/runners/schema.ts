import { builder } from '../schema/builder.js';
import { listRunners, watchRunners, type RunnerState } from './service.js';

const RunnerStateEnum = builder.enumType('RunnerState', {
  values: {
    LIVE: { description: 'Heartbeating and taking runs.' },
    DRAINING: { description: 'Finishing its runs before it stops; takes no new ones.' },
    DEGRADED: {
      description:
        'Found a fault of its own (JOBS_DIR or TASKS_DIR unusable, Harbor missing, Docker unreachable): takes no runs and hands back the ones it could not start until a re-probe finds it healthy. See degradedReason.',
    },
    LOST: { description: 'Silent for 30 s or more: crashed or cut off. Its runs are redelivered after the ack wait.' },
  },
});

const RunnerRef = builder.objectRef<RunnerState>('Runner').implement({
  description: 'A runner process, as its last heartbeat says.',
  fields: (t) => ({
    id: t.exposeID('runnerId'),
    host: t.exposeString('host'),
    state: t.expose('state', { type: RunnerStateEnum }),
    slots: t.exposeInt('slots'),
    busy: t.exposeInt('busy'),
    runIds: t.exposeIDList('runIds', { description: 'Runs it holds now.' }),
    harborVersion: t.exposeString('harborVersion', { nullable: true, description: 'Null when Harbor is missing.' }),
    dockerReachable: t.exposeBoolean('dockerReachable', { nullable: true }),
    lastError: t.exposeString('lastError', { nullable: true }),
    degradedReason: t.string({
      nullable: true,
      description: 'What is wrong with the runner while it is DEGRADED (or draining while degraded); null when healthy.',
      resolve: (r) => r.degraded?.reason ?? null,
    }),
    degradedSince: t.field({ type: 'DateTime', nullable: true, resolve: (r) => (r.degraded ? new Date(r.degraded.since) : null) }),
    startedAt: t.field({ type: 'DateTime', resolve: (r) => new Date(r.startedAt) }),
    lastHeartbeatAt: t.field({ type: 'DateTime', resolve: (r) => new Date(r.at) }),
  }),
});

builder.queryField('runners', (t) =>
  t.field({
    type: [RunnerRef],
    description: 'Every runner that has beaten within the last hour, live or lost.',
    resolve: (_root, _args, ctx) => listRunners(ctx.nats, ctx.topology),
  }),
);

builder.subscriptionField('runnersUpdated', (t) =>
  t.field({
    type: [RunnerRef],
    description: 'The runner list now, then again whenever a heartbeat changes it or a runner turns lost.',
    subscribe: (_root, _args, ctx) => watchRunners(ctx.nats, ctx.topology),
    resolve: (runners) => runners,
  }),
);
