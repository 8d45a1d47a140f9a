// GraphQL for per-test results: a run's tests and counts, and the tests that fail most often in a
// job or across a task's jobs. Thin over service.ts.
import { TestsSource, TestStatus } from '../generated/prisma/enums.js';
import { builder } from '../schema/builder.js';
import { InvalidInputError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { failingTests, MAX_FAILING_TESTS, type FailingTest } from './service.js';

const TestStatusEnum = builder.enumType(TestStatus, {
  name: 'TestStatus',
  description: "A verifier test's outcome: CTRF's statuses; pending counts as SKIPPED, pytest's ERROR as FAILED.",
});
export const TestsSourceEnum = builder.enumType(TestsSource, {
  name: 'TestsSource',
  description:
    "Which reader a run's tests came from: a report file under verifier/ (ctrf.json, JUnit XML, jest/vitest JSON, go test -json) or the test runner's lines in verifier/test-stdout.txt (pytest, unittest, go test -v, cargo test / nextest). testsNote names the file.",
});

builder.prismaObject('RunTest', {
  name: 'TestCase',
  description: 'One verifier test of a run.',
  fields: (t) => ({
    position: t.exposeInt('position', { description: '0-based place in the report.' }),
    name: t.exposeString('name', { description: 'e.g. tests/test_outputs.py::test_file_exists' }),
    status: t.expose('status', { type: TestStatusEnum }),
    durationMs: t.exposeInt('durationMs', { nullable: true }),
    message: t.exposeString('message', { nullable: true, description: "Why it failed: the report's assertion or trace (several lines for a trace), at most 2,000 characters." }),
  }),
});

const FailingTestRef = builder.objectRef<FailingTest>('FailingTest').implement({
  description: "A test and how often it failed, counting each (job, task, repeat)'s counted attempt once it finished.",
  fields: (t) => ({
    task: t.prismaField({
      type: 'Task',
      // Prisma batches the findUnique calls of one tick into a single query.
      resolve: (query, row, _args, ctx) => ctx.db.task.findUniqueOrThrow({ ...query, where: { id: row.taskId } }),
    }),
    name: t.exposeString('name'),
    failures: t.exposeInt('failures', { description: 'Runs in which it failed.' }),
    runs: t.exposeInt('runs', { description: 'Runs that reported it.' }),
    lastMessage: t.exposeString('lastMessage', { nullable: true, description: 'The message of its most recent failure.' }),
    sampleRunId: t.exposeID('sampleRunId', { description: 'The most recent run in which it failed.' }),
  }),
});

function checkFirst(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_FAILING_TESTS) {
    throw new InvalidInputError(`first must be a whole number from 1 to ${MAX_FAILING_TESTS}, got ${n}`, 'first');
  }
  return n;
}

builder.prismaObjectField('Job', 'failingTests', (t) =>
  t.field({
    type: [FailingTestRef],
    description: "The job's tests that failed most often, per task; taskId narrows it to one task.",
    args: { taskId: t.arg.id(), first: t.arg.int({ defaultValue: 20, description: `1 to ${MAX_FAILING_TESTS}.` }) },
    select: { id: true },
    resolve: (job, args, ctx) =>
      failingTests(ctx.db, { jobId: job.id, ...(args.taskId ? { taskId: parseId(args.taskId, 'taskId') } : {}) }, checkFirst(args.first)),
  }),
);

builder.prismaObjectField('Task', 'failingTests', (t) =>
  t.field({
    type: [FailingTestRef],
    description: "The task's tests that failed most often, across every job.",
    args: { first: t.arg.int({ defaultValue: 20, description: `1 to ${MAX_FAILING_TESTS}.` }) },
    select: { id: true },
    resolve: (task, args, ctx) => failingTests(ctx.db, { taskId: task.id }, checkFirst(args.first)),
  }),
);
