import { GraphQLError } from 'graphql';
import { Repeater } from 'graphql-yoga';
import { builder } from '../schema/builder.js';
import { checkHealth, type ComponentHealth, type Health } from './service.js';

const ComponentHealthRef = builder.objectRef<ComponentHealth>('ComponentHealth').implement({
  description: 'Whether one dependency of the API answers.',
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    latencyMs: t.exposeFloat('latencyMs', { nullable: true, description: 'Round trip of the check, when it succeeded.' }),
    message: t.exposeString('message', { nullable: true, description: 'What answered, or why the check failed.' }),
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
