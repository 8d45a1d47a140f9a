import { TESTED_HARBOR_LABEL } from 'runner/protocol';
import { builder } from '../schema/builder.js';
import { environmentAvailability, waitingForRunner, type EnvironmentAvailability } from './availability.js';
import { listRunners, runnerCapabilities, runnerPools, watchRunners, type RunnerState } from './service.js';

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

const UnavailableEnvironmentRef = builder.objectRef<{ environmentType: string; reason: string }>('UnavailableEnvironment').implement({
  description: 'An environment type a runner does not serve, and why.',
  fields: (t) => ({ environmentType: t.exposeString('environmentType'), reason: t.exposeString('reason') }),
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
    environmentTypes: t.stringList({
      description: 'Environment types it serves (docker when Docker answers, a cloud type when it holds its credentials, …). A runner older than this field: docker.',
      resolve: (r) => runnerCapabilities(r).environmentTypes,
    }),
    unavailableEnvironments: t.field({ type: [UnavailableEnvironmentRef], resolve: (r) => runnerCapabilities(r).unavailable }),
    windows: t.boolean({ description: 'Its Docker runs Windows containers.', resolve: (r) => runnerCapabilities(r).windows }),
    gpus: t.int({ description: "GPUs of the runner's own machine.", resolve: (r) => runnerCapabilities(r).gpus }),
    pools: t.stringList({ description: 'The pools of run orders it takes from (environment type, _windows, _gpu).', resolve: (r) => runnerPools(r) }),
    harborVersionTested: t.boolean({
      nullable: true,
      description: `Whether its Harbor is within the tested range ${TESTED_HARBOR_LABEL}; false: untested (it still runs); null: Harbor missing or not reported.`,
      resolve: (r) => r.capabilities?.harborTested ?? null,
    }),
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

const EnvironmentAvailabilityRef = builder.objectRef<EnvironmentAvailability>('EnvironmentAvailability').implement({
  description: 'Whether a live runner can serve an environment type now.',
  fields: (t) => ({
    environmentType: t.exposeString('environmentType'),
    available: t.exposeBoolean('available'),
    runnerIds: t.exposeStringList('runnerIds', { description: 'The live runners serving it.' }),
    reasons: t.exposeStringList('reasons', { description: 'Why no runner serves it, runner by runner; empty when available.' }),
  }),
});

builder.queryField('environmentAvailability', (t) =>
  t.field({
    type: [EnvironmentAvailabilityRef],
    description: "Every Harbor environment type, with whether a live runner serves it and why not. A job on an unavailable type is still accepted: it waits until a runner that can serve it comes.",
    resolve: async (_root, _args, ctx) => environmentAvailability(await listRunners(ctx.nats, ctx.topology)),
  }),
);

builder.prismaObjectField('Job', 'waitingForRunner', (t) =>
  t.string({
    nullable: true,
    description: 'Set while some of its runs wait because no live runner can serve them, e.g. "waiting for a runner that can serve modal (GPU)".',
    resolve: async (job, _args, ctx) =>
      job.status === 'QUEUED' || job.status === 'RUNNING' ? waitingForRunner(ctx.db, job.id, await listRunners(ctx.nats, ctx.topology)) : null,
  }),
);
