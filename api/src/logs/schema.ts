// GraphQL for run logs: the runLog subscription and the download links on Run.
import { LOG_SOURCES } from 'runner/protocol';
import { builder } from '../schema/builder.js';
import { parseId } from '../schema/ids.js';
import { assertRunExists, followRunLog, type LogPage } from './service.js';

const LogSourceEnum = builder.enumType('LogSource', {
  description: 'Who wrote a log line: Harbor itself, the trial, the agent, the verifier, the runner, or the platform (what it did to the run on its own).',
  values: LOG_SOURCES,
});

type Line = LogPage['lines'][number];

const LogLineRef = builder.objectRef<Line>('LogLine').implement({
  fields: (t) => ({
    source: t.expose('source', { type: LogSourceEnum }),
    file: t.exposeString('file', { nullable: true, description: 'The file it came from, relative to the trial directory.' }),
    text: t.exposeString('text', { description: 'One line, ANSI escape codes kept, provider keys replaced by [REDACTED].' }),
    at: t.field({ type: 'DateTime', description: 'When the runner read it.', resolve: (line) => new Date(line.at) }),
  }),
});

const RunLogChunkRef = builder.objectRef<LogPage>('RunLogChunk').implement({
  description: 'Consecutive log lines of a run.',
  fields: (t) => ({
    position: t.exposeFloat('position', { description: 'Position of this chunk; subscribe again with `after` set to it to resume behind it.' }),
    lines: t.expose('lines', { type: [LogLineRef] }),
  }),
});

builder.subscriptionField('runLog', (t) =>
  t.field({
    type: RunLogChunkRef,
    description:
      "A run's log from the start (or behind `after`), then live, in order, each line once; completes when the run " +
      'has ended and its log is fully read. A subscriber that stops reading for 30 s gets SLOW_CONSUMER and can resume with `after`.',
    args: { runId: t.arg.id({ required: true }), after: t.arg.float({ description: 'The last position received.' }) },
    subscribe: async (_root, args, ctx) => {
      const runId = parseId(args.runId, 'runId');
      await assertRunExists(ctx.db, runId);
      return followRunLog(ctx, runId, Math.max(0, Math.floor(args.after ?? 0)));
    },
    resolve: (page) => page,
  }),
);
