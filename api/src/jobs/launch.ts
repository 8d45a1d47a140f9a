// createJob: validates a launch, then writes the job and all its runs in one transaction. Nothing
// is published here: the dispatcher (outbox) picks the runs up after the commit.
//
// A launch may carry the client's idempotency key: the same key within a day returns the job it
// launched. The unique index on Job.idempotencyKey decides between concurrent launches with one
// key (the second insert waits for the first to commit, then fails and reads the first's job);
// the lookup before validating only spares a repeated request the work.
import { harborOptionsSchema } from 'runner/protocol';
import { providerEnvVarProblem, seal } from 'runner/secrets';
import type { Db } from '../db/client.js';
import { Prisma } from '../generated/prisma/client.js';
import { InvalidInputError } from '../schema/errors.js';
import { taskWhere, type TaskFilter } from '../tasks/library.js';
import { launchTasks } from '../datasets/service.js';
import { checkBudgetValue } from './budget.js';
import type { Role } from '../auth/viewer.js';
import { checkAgentAndModel, isCustomAgent, PROVIDER_KEY_VARS, providerOf } from './agents.js';
import { TASK_GPU, TASK_WINDOWS } from './dispatcher.js';
import {
  checkAgentKwargs,
  checkCustomAgent,
  checkEnvironmentFits,
  checkHostAccess,
  DEFAULT_LAUNCH_SETTINGS,
  type HostAccessTask,
  type LaunchSettings,
  type Refusal,
  type TaskNeeds,
} from './launch-policy.js';
import { refuseOverQuota } from '../quotas/service.js';
import { checkJobName, isNameTaken, JobNameExistsError, nameLock, refuseTakenName } from './names.js';

/** Runs one job may hold: 100 tasks × 100 runs is the largest launch the product promises. */
export const MAX_RUNS_PER_JOB = 100_000;

/** Long enough for a UUID, a hash or a client's own request id with a prefix. */
export const MAX_IDEMPOTENCY_KEY = 200;
/** How long a key returns its job; after that the key may launch a new one. */
const IDEMPOTENCY_WINDOW = Prisma.sql`interval '24 hours'`;

export interface LaunchInput {
  name?: string | null;
  taskIds?: string[] | null;
  taskFilter?: TaskFilter | null;
  /** Launch on this dataset version: all its tasks, or the subset taskIds/taskFilter names (within it). */
  datasetVersionId?: string | null;
  agent: string;
  model?: string | null;
  runsPerTask: number;
  /** Validated here against the protocol's schema; unset fields take Harbor defaults. */
  harbor?: Record<string, unknown> | null;
  providerKey?: { value: string; envVar?: string | null } | null;
  /** Cost cap in US dollars (budget.ts). */
  budgetUsd?: number | null;
  /** The client's key for this launch: the same key within a day returns the first job. */
  idempotencyKey?: string | null;
  /** Run tasks whose compose file reaches the runner host (host_access warnings); ADMIN only. */
  allowHostAccess?: boolean | null;
  /** Who launches it (the signed-in user); null for anonymous launches, which no quota limits. */
  createdById?: string | null;
}

export interface LaunchDeps {
  db: Db;
  /** AES-256 key for provider keys; null when SECRETS_KEY is not configured. */
  secretsKey: Buffer | null;
  /** The caller's role (`ctx.viewer?.role ?? null`); absent or null: the least-privileged caller. */
  role?: Role | null;
  /** What the server allows (launch-policy.ts); absent: the defaults. */
  launchSettings?: LaunchSettings;
}

function invalid(field: string, message: string): never {
  throw new InvalidInputError(message, field);
}

/**
 * The agent and model as stored (trimmed; no model is ''), after checking them and runsPerTask.
 * Shared by createJob and the cost estimate, which must refuse what a launch would refuse.
 */
export function checkAgentModelRuns(input: Pick<LaunchInput, 'agent' | 'model' | 'runsPerTask'>): { agent: string; model: string | null } {
  const agent = input.agent.trim();
  const model = input.model?.trim() || null;
  const agentProblem = checkAgentAndModel(agent, model);
  if (agentProblem) invalid(agentProblem.startsWith('model') || agentProblem.includes('needs a model') ? 'input.model' : 'input.agent', agentProblem);

  if (!Number.isInteger(input.runsPerTask) || input.runsPerTask < 1 || input.runsPerTask > 100) {
    invalid('input.runsPerTask', `runsPerTask must be a whole number from 1 to 100, got ${input.runsPerTask}`);
  }
  return { agent, model };
}

export interface Launched {
  id: string;
  runsTotal: number;
  /** True when the idempotency key named a job launched earlier, which this is; nothing was written. */
  existing: boolean;
}

export async function createJob(deps: LaunchDeps, input: LaunchInput): Promise<Launched> {
  const key = checkIdempotencyKey(input.idempotencyKey);
  if (key !== null) {
    const earlier = await launchedWith(deps.db, key);
    if (earlier) return earlier;
  }
  const { agent, model } = checkAgentModelRuns(input);
  // No name: "agent · model", which the database makes unique on insert (names.ts).
  const explicitName = Boolean(input.name?.trim());
  const name = checkJobName(explicitName ? input.name! : `${agent}${model ? ` · ${model}` : ''}`, 'input.name');

  const budgetUsd = checkBudgetValue(input.budgetUsd, 'input.budgetUsd');

  const harbor = harborOptionsSchema.safeParse(input.harbor ?? {});
  if (!harbor.success) {
    const issue = harbor.error.issues[0]!;
    invalid(`input.harbor.${issue.path.join('.')}`, `harbor.${issue.path.join('.')}: ${issue.message}`);
  }

  const role = deps.role ?? null;
  const settings = deps.launchSettings ?? DEFAULT_LAUNCH_SETTINGS;
  refuse(checkCustomAgent({ custom: isCustomAgent(agent), role, settings }));
  refuse(checkAgentKwargs(harbor.data.agentKwargs, { role, ownKey: Boolean(input.providerKey), settings }));
  const secret = input.providerKey ? sealProviderKey(deps, model, input.providerKey) : null;

  const taskIds = await resolveTasks(deps.db, input);
  const runsTotal = taskIds.length * input.runsPerTask;
  if (runsTotal > MAX_RUNS_PER_JOB) {
    invalid('input.runsPerTask', `${taskIds.length} tasks × ${input.runsPerTask} runs is ${runsTotal} runs; at most ${MAX_RUNS_PER_JOB} fit in one job`);
  }
  refuse(checkHostAccess(await hostAccessTasks(deps.db, taskIds), { role, allowHostAccess: input.allowHostAccess === true }));
  refuse(checkEnvironmentFits(await needyTasks(deps.db, taskIds), harbor.data.environmentType));

  try {
    return await deps.db.$transaction(
      async (tx) => {
        // Launches of one name (or one agent and model, unnamed) take turns, so the check and the
        // insert trigger's " (n)" see each other's rows.
        await nameLock(tx, name);
        if (explicitName) await refuseTakenName(tx, name, null);
        await refuseOverQuota(tx, input.createdById ?? null, runsTotal);
        // A key older than the window is free again: its job lets go of it.
        if (key !== null) {
          await tx.$executeRaw`UPDATE "Job" SET "idempotencyKey" = NULL
                                WHERE "idempotencyKey" = ${key} AND "createdAt" <= now() - ${IDEMPOTENCY_WINDOW}`;
        }
        const providerSecret = secret ? await tx.providerSecret.create({ data: secret, select: { id: true } }) : null;
        const job = await tx.job.create({
          data: {
            name,
            agent,
            model: model ?? '',
            runsPerTask: input.runsPerTask,
            harborOptions: harbor.data as Prisma.InputJsonObject,
            runsTotal,
            runsQueued: runsTotal,
            providerSecretId: providerSecret?.id ?? null,
            budgetUsd,
            idempotencyKey: key,
            createdById: input.createdById ?? null,
            datasetVersionId: input.datasetVersionId ?? null,
          },
          select: { id: true },
        });
        // One set-based statement: 10,000 runs in tens of milliseconds, where row-by-row inserts take seconds.
        await tx.$executeRaw`
          INSERT INTO "Run" (id, "jobId", "taskId", repeat)
          SELECT gen_random_uuid(), ${job.id}::uuid, t.id, r.n
            FROM unnest(${taskIds}::uuid[]) WITH ORDINALITY AS t(id, ord)
           CROSS JOIN generate_series(1, ${input.runsPerTask}::int) AS r(n)
           ORDER BY t.ord, r.n`;
        return { id: job.id, runsTotal, existing: false };
      },
      // 10,000 rows take a few hundred milliseconds; leave room on a busy machine.
      { timeout: 60_000 },
    );
  } catch (error) {
    // A concurrent launch with the same key committed first: the unique index refused this one.
    if (key !== null && isUniqueViolation(error, 'idempotencyKey')) {
      const earlier = await launchedWith(deps.db, key);
      if (earlier) return earlier;
    }
    if (explicitName && isNameTaken(error)) throw new JobNameExistsError(name, null);
    throw error;
  }
}

function refuse(refusal: Refusal | null): void {
  if (refusal) invalid(refusal.field, refusal.message);
}

/** The named tasks that need Windows or GPUs (the same reading of task.toml as dispatcher.ts POOL). */
async function needyTasks(db: Db, taskIds: string[]): Promise<TaskNeeds[]> {
  return db.$queryRaw<TaskNeeds[]>`
    SELECT name, windows, gpu FROM (
      SELECT t.name,
             ${TASK_WINDOWS} AS windows, ${TASK_GPU} AS gpu
        FROM "Task" t WHERE t.id = ANY(${taskIds}::uuid[])) n
     WHERE windows OR gpu
     ORDER BY name`;
}

/** The named tasks whose compose file reaches the runner host, with the reasons recorded at upload. */
async function hostAccessTasks(db: Db, taskIds: string[]): Promise<HostAccessTask[]> {
  const rows = await db.$queryRaw<{ name: string; reasons: string[] }[]>`
    SELECT t.name, array_agg(w->>'message' ORDER BY o) AS reasons
      FROM "Task" t, jsonb_array_elements(t.warnings) WITH ORDINALITY AS x(w, o)
     WHERE t.id = ANY(${taskIds}::uuid[]) AND w->>'code' = 'host_access'
     GROUP BY t.id, t.name
     ORDER BY t.name`;
  return rows;
}

function checkIdempotencyKey(key: string | null | undefined): string | null {
  if (key === null || key === undefined) return null;
  if (key.length < 1 || key.length > MAX_IDEMPOTENCY_KEY) {
    invalid('input.idempotencyKey', `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY} characters, got ${key.length}`);
  }
  return key;
}

/** The job launched with this key within the window, if any (the database's clock decides). */
async function launchedWith(db: Db, key: string): Promise<Launched | null> {
  const [job] = await db.$queryRaw<{ id: string; runsTotal: number }[]>`
    SELECT id::text, "runsTotal" FROM "Job" WHERE "idempotencyKey" = ${key} AND "createdAt" > now() - ${IDEMPOTENCY_WINDOW}`;
  return job ? { ...job, existing: true } : null;
}

function isUniqueViolation(error: unknown, column: string): boolean {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError) || error.code !== 'P2002') return false;
  return JSON.stringify(error.meta ?? {}).includes(column);
}

/**
 * The ids of the tasks a launch names (taskIds, or every task matching taskFilter; on a dataset version,
 * its tasks or that subset of them); refuses unknown ids and empty selections.
 */
export async function resolveTasks(db: Db, input: Pick<LaunchInput, 'taskIds' | 'taskFilter' | 'datasetVersionId'>): Promise<string[]> {
  if (input.datasetVersionId) return launchTasks(db, input.datasetVersionId, input);
  if (input.taskIds && input.taskFilter) invalid('input.taskIds', 'give either taskIds or taskFilter, not both');
  if (input.taskIds) {
    const unique = [...new Set(input.taskIds)];
    if (unique.length === 0) invalid('input.taskIds', 'taskIds must name at least one task');
    const found = await db.task.findMany({ where: { id: { in: unique } }, select: { id: true } });
    if (found.length !== unique.length) {
      const known = new Set(found.map((t) => t.id));
      const missing = unique.filter((id) => !known.has(id));
      invalid('input.taskIds', `no task with id ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
    }
    return unique;
  }
  if (!input.taskFilter) invalid('input.taskIds', 'give taskIds, or taskFilter to run every task matching a library filter');
  const tasks = await db.task.findMany({ where: taskWhere(input.taskFilter), select: { id: true }, orderBy: { name: 'asc' } });
  if (tasks.length === 0) invalid('input.taskFilter', 'no task matches taskFilter');
  return tasks.map((t) => t.id);
}

function sealProviderKey(
  deps: LaunchDeps,
  model: string | null,
  key: { value: string; envVar?: string | null },
): { provider: string; envVar: string; ciphertext: string; hint: string } {
  if (!deps.secretsKey) {
    invalid('input.providerKey', 'this server cannot store provider keys: set SECRETS_KEY (32 bytes, base64) on the API and runners');
  }
  const value = key.value.trim();
  if (value.length < 8 || value.length > 4096 || /\s/.test(value)) {
    invalid('input.providerKey.value', 'providerKey.value must be the key itself: 8 to 4096 characters, no spaces');
  }
  const provider = providerOf(model);
  const envVar = key.envVar?.trim() || (provider ? PROVIDER_KEY_VARS[provider] : undefined);
  if (!envVar) {
    invalid('input.providerKey.envVar', `cannot tell which variable the key belongs in for model ${JSON.stringify(model)}; set providerKey.envVar (e.g. OPENROUTER_API_KEY)`);
  }
  const envVarProblem = providerEnvVarProblem(envVar);
  if (envVarProblem) invalid('input.providerKey.envVar', `providerKey.envVar ${envVarProblem}`);
  return { provider: provider ?? 'custom', envVar, ciphertext: seal(deps.secretsKey, value, envVar), hint: value.slice(-4) };
}
