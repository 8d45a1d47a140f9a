// One Run on this runner: take over from earlier deliveries → write the Harbor config → run Harbor →
// report started when the trial directory appears → read and classify the trial result. Cleanup
// (config file, timers, log capture) always runs and never replaces the outcome.
import { constants } from 'node:fs';
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunnerConfig } from './config.js';
import { RunnerFault, ownFiles } from './health.js';
import { buildHarborJobConfig } from './harbor/job-config.js';
import { takeDownTrialEnvironment } from './harbor/containers.js';
import { cleanUpEarlierDeliveries } from './harbor/leftovers.js';
import { trialDetails, tracebackTail } from './harbor/details.js';
import { classifyTrial, verifierCrash } from './harbor/outcome.js';
import { harborNotRunnable, spawnHarbor, type HarborProcess, type ParentDeathWrapper } from './harbor/process.js';
import { HarborResultError, parseTrialResult } from './harbor/result.js';
import { buildHarborRegradeConfig, regradeProblem } from './harbor/regrade.js';
import { checkRunRewardIntegrity, readRunTests } from './harbor/steps.js';
import { startLogCapture, type LogCapture } from './logs/index.js';
import { harborConfigFileName, harborJobName, keepsOwnAgentLog, RUNNER_DIR, TRIAL_FILES } from './protocol/layout.js';
import { DETAIL_LIMITS, type LogChunk, type RunOrder, type RunResult } from './protocol/messages.js';
import { providerEnvVarProblem, RUNNER_PASSED_THROUGH_ENV } from './secrets/env-vars.js';
import { scrubFilesAtRest } from './secrets/files.js';
import { hostPathPlaceholders } from './secrets/host-paths.js';
import { open } from './secrets/sealed.js';
import { createScrubber, type Scrubber } from './secrets/scrub.js';

/** Why a trial was stopped early; each leads to a different outcome. */
export type StopReason =
  | 'user' // cancelCommand: recorded CANCELLED
  | 'wall-clock' // ran past its guard: ERRORED / INFRASTRUCTURE
  | 'shutdown'; // the runner is going away: released, the order is redelivered

export type TrialOutcome =
  | { kind: 'finished'; result: RunResult }
  /** No outcome of the run's own: the order goes back to the queue (RELEASE_REASONS). */
  | { kind: 'released'; reason: 'shutdown'; message: string }
  | { kind: 'released'; reason: 'runner-unhealthy'; message: string; fault: RunnerFault };

export interface TrialHooks {
  started(trialDir: string): void;
  /** Publishes a chunk of this run's log; a failure is counted, never fatal. */
  publishLog(chunk: LogChunk): Promise<void>;
  log(line: string): void;
}

export interface Trial {
  readonly order: RunOrder;
  stop(reason: StopReason): void;
  readonly done: Promise<TrialOutcome>;
}

const OUTPUT_TAIL_BYTES = 8_192;
/** Harbor's Docker pre-flight (harbor-contract.md §3): the machine's fault, before any trial. */
const DOCKER_PREFLIGHT = /Docker is not installed|Docker daemon is not running/;
/** Python's errno text for a full or read-only JOBS_DIR (ENOSPC, EROFS, EDQUOT). */
const STORAGE_ERRNO = /\[Errno (28|30|122)\]/;

function infra(message: string, exceptionType = 'RunnerError', trialDir: string | null = null): RunResult {
  return {
    status: 'ERRORED',
    failureKind: 'INFRASTRUCTURE',
    exceptionType,
    exceptionMessage: message,
    reward: null,
    rewards: null,
    inputTokens: null,
    cacheTokens: null,
    outputTokens: null,
    costUsd: null,
    environmentSetupMs: null,
    agentSetupMs: null,
    agentExecutionMs: null,
    verifierMs: null,
    trialDir,
  };
}

const finished = (result: RunResult): TrialOutcome => ({ kind: 'finished', result });
const cancelled = (trialDir: string | null) => finished({ ...infra('cancelled by a user', 'CancelledError', trialDir), status: 'CANCELLED', failureKind: null });
const unhealthy = (fault: RunnerFault): TrialOutcome => ({ kind: 'released', reason: 'runner-unhealthy', message: fault.message, fault });
const SHUTDOWN: TrialOutcome = { kind: 'released', reason: 'shutdown', message: 'the runner shut down before the trial finished' };

/**
 * result.json is written non-atomically: an empty or half-written file (no field to blame) is read
 * again shortly; a complete file that breaks the schema is reported at once.
 */
async function readTrialResult(trialDir: string): Promise<ReturnType<typeof parseTrialResult> | null> {
  const file = path.join(trialDir, TRIAL_FILES.result);
  for (let attempt = 1; ; attempt++) {
    try {
      return parseTrialResult(await readFile(file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      const halfWritten = error instanceof HarborResultError && error.field === null;
      if (!halfWritten || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A missing package is the run's problem; a TASKS_DIR this runner cannot read is the runner's. */
async function checkTaskPackage(config: RunnerConfig, order: RunOrder): Promise<TrialOutcome | null> {
  const taskDir = path.join(config.tasksDir, order.taskDir);
  if (await stat(path.join(taskDir, 'task.toml')).then(() => true, () => false)) return null;
  try {
    await access(config.tasksDir, constants.R_OK | constants.X_OK);
  } catch (error) {
    return unhealthy(new RunnerFault(`TASKS_DIR (${config.tasksDir}) is not readable: ${(error as Error).message}`));
  }
  return finished(infra(`task package ${order.taskDir} is not under TASKS_DIR (${config.tasksDir}); is the shared storage mounted on this runner?`));
}

/** The keys an order carries only to be scrubbed; one that will not open was never anyone's key here. */
function openRedacted(config: RunnerConfig, order: RunOrder): string[] {
  if (!config.secretsKey) return [];
  const keys: string[] = [];
  for (const secret of order.redact) {
    try {
      keys.push(open(config.secretsKey, secret.ciphertext, secret.envVar));
    } catch {
      // Sealed with another SECRETS_KEY: this runner could not have given it to Harbor either.
    }
  }
  return keys;
}

/**
 * What the runner reports about a trial, without keys or host paths: the exception message (Harbor's
 * own exception_message, or the tail of its output) and traceback, the steps' exception messages,
 * the agent's metadata strings, test messages, and a release's reason, which also becomes the
 * heartbeat's lastError.
 */
function scrubOutcome(outcome: TrialOutcome, scrubber: Scrubber): TrialOutcome {
  if (!scrubber.active) return outcome;
  if (outcome.kind === 'released') {
    const message = scrubber.scrub(outcome.message);
    if (outcome.reason === 'shutdown') return { ...outcome, message };
    return { ...outcome, message, fault: new RunnerFault(message, { docker: outcome.fault.docker }) };
  }
  const result = outcome.result;
  const tests = result.tests && {
    ...result.tests,
    cases: result.tests.cases.map((c) => (c.message === undefined ? c : { ...c, message: scrubber.scrub(c.message) })),
    ...(result.tests.note === undefined ? {} : { note: scrubber.scrub(result.tests.note) }),
  };
  return {
    kind: 'finished',
    result: {
      ...result,
      exceptionMessage: result.exceptionMessage === null ? null : scrubber.scrub(result.exceptionMessage),
      ...(tests ? { tests } : {}),
      ...scrubDetails(result, scrubber),
    },
  };
}

/** The scrubbed copies of the details' free text (details.ts); fields a result lacks stay absent. */
function scrubDetails(result: RunResult, scrubber: Scrubber): Partial<RunResult> {
  const scrub = (text: string | null) => (text === null ? null : scrubber.scrub(text));
  const out: Partial<RunResult> = {};
  // Cut again after scrubbing: a placeholder may be longer than what it replaced.
  if (result.exceptionTraceback !== undefined) out.exceptionTraceback = tracebackTail(scrub(result.exceptionTraceback));
  if (result.steps) {
    out.steps = result.steps.map((step) => ({ ...step, exceptionMessage: scrub(step.exceptionMessage)?.slice(0, DETAIL_LIMITS.stepMessageChars) ?? null }));
  }
  if (result.agentMetadata) {
    const values = Object.fromEntries(
      Object.entries(result.agentMetadata.values).map(([k, v]) => [k, typeof v === 'string' ? scrubber.scrub(v).slice(0, DETAIL_LIMITS.metadataValueChars) : v]),
    );
    out.agentMetadata = { ...result.agentMetadata, values };
  }
  return out;
}

/** Keys out of the trial's files at rest (secrets/files.ts); a failure is logged, never the run's. */
async function scrubTrialFiles(jobDir: string, keys: string[], log: (line: string) => void): Promise<void> {
  try {
    const stats = await scrubFilesAtRest(jobDir, createScrubber(keys));
    if (stats.rewritten > 0) log(`removed provider keys from ${stats.rewritten} file(s) of the trial`);
    for (const file of stats.skippedLarge) log(`not scrubbed for keys, too large: ${file}`);
  } catch (error) {
    log(`scrubbing keys from the trial's files: ${(error as Error).message}`);
  }
}

/** Why an order's secrets may not be given to Harbor (a name outside the provider list), or null. */
function refusedSecrets(order: RunOrder): string | null {
  for (const secret of order.secrets) {
    const problem = providerEnvVarProblem(secret.envVar);
    if (problem) return `run order refused, Harbor was not started: its secret ${problem}`;
  }
  return null;
}

/** `sandbox`: the runner's sandbox credentials for the order's environment type (capabilities.ts), passed to Harbor and scrubbed like keys. */
export function startTrial(
  config: RunnerConfig,
  order: RunOrder,
  deliveryCount: number,
  wrapper: ParentDeathWrapper,
  hooks: TrialHooks,
  sandbox: Readonly<Record<string, string>> = {},
): Trial {
  let stopReason: StopReason | null = null;
  let harbor: HarborProcess | null = null;
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    harbor?.stop(config.cancelGraceMs);
  };

  /** Every key this run knows (its own and the server's defaults), opened once the order is accepted. */
  let keys: string[] = [];
  const done = (async (): Promise<TrialOutcome> => {
    const jobName = harborJobName({ runId: order.runId, dispatch: order.dispatch, delivery: deliveryCount });
    const jobDir = path.join(config.jobsDir, jobName);
    const configDir = path.join(config.jobsDir, RUNNER_DIR);
    const configFile = path.join(configDir, harborConfigFileName(jobName));
    const taskDir = path.join(config.tasksDir, order.taskDir);
    const timers: NodeJS.Timeout[] = [];
    let trialDir: string | null = null;
    let capture: LogCapture | null = null;
    let captureStopped: Promise<void> | null = null;
    const stopCapture = () =>
      (captureStopped ??= (async () => {
        const stats = await capture?.stop();
        if (stats && (stats.failedChunks > 0 || stats.droppedLines > 0)) {
          hooks.log(`run ${order.runId}: ${stats.failedChunks} log chunk(s) failed to publish, ${stats.droppedLines} line(s) dropped`);
        }
      })());
    const relative = (p: string | null) => (p ? path.relative(config.jobsDir, p) : null);
    try {
      const packageProblem = await checkTaskPackage(config, order);
      if (packageProblem) return packageProblem;
      // The API checks this too; an order that reaches NATS some other way must not get further.
      const refused = refusedSecrets(order);
      if (refused) return finished(infra(refused, 'OrderRefused'));
      const env: Record<string, string> = {};
      for (const secret of order.secrets) {
        if (!config.secretsKey) return finished(infra('this runner has no SECRETS_KEY, so it cannot open the provider key of this run'));
        try {
          env[secret.envVar] = open(config.secretsKey, secret.ciphertext, secret.envVar);
        } catch (error) {
          return finished(infra((error as Error).message));
        }
      }
      keys = [...order.secrets.map((s) => env[s.envVar]!), ...openRedacted(config, order), ...Object.values(sandbox)].filter(Boolean);
      Object.assign(env, sandbox);
      // The runner's own variables last: nothing an order carries can replace them.
      env.HARBOR_TELEMETRY = 'off';
      for (const name of RUNNER_PASSED_THROUGH_ENV) if (process.env[name]) env[name] = process.env[name]!;

      // The first delivery of the first dispatch has no predecessor to clean up after: skip the scan of
      // JOBS_DIR, which is shared storage and grows with every trial.
      if (order.dispatch > 1 || deliveryCount > 1) await cleanUpEarlierDeliveries({
        jobsDir: config.jobsDir,
        runId: order.runId,
        ownJobName: jobName,
        runnerId: config.runnerId,
        docker: order.harbor.environmentType === 'docker',
        log: hooks.log,
      });
      if (order.regrade) {
        const problem = await regradeProblem(config.harborBin, config.jobsDir, order.regrade.sourceTrialDir);
        if (problem) return finished(infra(problem, 'RegradeNotPossible'));
      }
      const harborConfig = order.regrade
        ? buildHarborRegradeConfig({ ...order, regrade: order.regrade }, { taskDir, jobsDir: config.jobsDir }, deliveryCount)
        : buildHarborJobConfig(order, { taskDir, jobsDir: config.jobsDir }, deliveryCount);
      await ownFiles(`JOBS_DIR (${config.jobsDir}) is not usable`, async () => {
        await mkdir(configDir, { recursive: true });
        await rm(jobDir, { recursive: true, force: true });
        await writeFile(configFile, JSON.stringify(harborConfig, null, 2));
      });

      capture = startLogCapture({
        runId: order.runId,
        jobDir,
        publish: hooks.publishLog,
        // The capture watches the job directory anyway: it tells when the trial starts.
        onTrialDir: (dir) => {
          if (trialDir) return;
          trialDir = dir;
          hooks.started(relative(dir)!);
        },
        // Known up front: an installed agent's session files may be copied in before its own log.
        agentKeepsOwnLog: keepsOwnAgentLog(order.agent),
        pollMs: config.logPollMs,
        flushMs: config.logFlushMs,
        // Keys never leave the runner in a log line, whoever printed them.
        secrets: keys,
        // Harbor prints where it writes (the job directory, the task's path): placeholders, not host paths.
        replacements: hostPathPlaceholders(config),
      });
      let output = '';
      if (stopReason === 'shutdown') return SHUTDOWN;
      if (stopReason === 'user') return cancelled(null);
      harbor = spawnHarbor({
        harborBin: config.harborBin,
        args: ['run', '-c', configFile, '-y', '--quiet'],
        env,
        wrapper,
        onOutput: (chunk) => {
          output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
          capture?.harborOutput(chunk);
        },
      });
      if (stopReason) harbor.stop(config.cancelGraceMs);

      // A guard above Harbor's own timeouts catches a Harbor that hangs; none when the agent may run forever.
      const guardMs = order.maxDurationSec === null ? null : order.maxDurationSec * 1000 + config.wallClockSlackMs;
      if (guardMs !== null) timers.push(setTimeout(() => stop('wall-clock'), guardMs));

      const exit = await harbor.exit;
      // The last read of Harbor's files also finds a trial directory that appeared just before it exited.
      await stopCapture();
      // Harbor tears the environment down before it writes the trial result: killed past the grace, or
      // dead without a result, it left the containers running (harbor-contract.md §3). Also on shutdown.
      if (order.harbor.environmentType === 'docker' && trialDir) {
        const killed = harbor.killed;
        if (killed || !(await stat(path.join(trialDir, TRIAL_FILES.result)).then(() => true, () => false))) {
          const why = killed ? `Harbor was killed ${Math.round(config.cancelGraceMs / 1000)} s after it was asked to stop` : 'Harbor exited without a trial result';
          await takeDownTrialEnvironment(path.basename(trialDir), { why, log: (line) => hooks.log(`run ${order.runId}: ${line}`) });
        }
      }
      if (stopReason === 'shutdown') return SHUTDOWN;

      if (harborNotRunnable(exit, output)) {
        return unhealthy(new RunnerFault(`Harbor cannot be run here: ${config.harborBin} was not found or is not executable (set HARBOR_BIN)`));
      }
      let parsed: Awaited<ReturnType<typeof readTrialResult>> = null;
      try {
        parsed = trialDir ? await readTrialResult(trialDir) : null;
      } catch (error) {
        return finished(infra(`Harbor's trial result.json cannot be read: ${(error as Error).message}`, 'ResultUnreadable', relative(trialDir)));
      }
      const guard = `the runner's wall-clock guard (${Math.round((guardMs ?? 0) / 1000)} s)`;
      if (parsed) {
        // Failed and errored runs too: which tests failed is what people open them for.
        const { tests, crash } = await readRunTests(trialDir!, parsed);
        const rewardFlag = await checkRunRewardIntegrity(trialDir!, parsed);
        const result: RunResult = {
          ...verifierCrash(classifyTrial(parsed), crash),
          ...trialDetails(parsed),
          trialDir: relative(trialDir),
          ...(tests ? { tests } : {}),
          ...(rewardFlag ? { rewardFlag } : {}),
          // Harbor copies the source's agent_result into a regrade: that spend is the source run's, not this one's.
          ...(order.regrade ? { inputTokens: null, cacheTokens: null, outputTokens: null, costUsd: null } : {}),
        };
        if (stopReason === 'wall-clock' && result.status === 'CANCELLED') {
          return finished(infra(`the trial ran past ${guard} and was stopped`, 'WallClockExceeded', relative(trialDir)));
        }
        return finished(result);
      }
      if (stopReason === 'user') return cancelled(relative(trialDir));
      if (stopReason === 'wall-clock') return finished(infra(`the trial ran past ${guard} and was killed`, 'WallClockExceeded', relative(trialDir)));
      const said = output.trim().split('\n').slice(-5).join('\n');
      if (!trialDir && order.harbor.environmentType === 'docker' && DOCKER_PREFLIGHT.test(output)) {
        return unhealthy(new RunnerFault(`Docker is not reachable for Harbor: ${said}`, { docker: true }));
      }
      if (STORAGE_ERRNO.test(output)) return unhealthy(new RunnerFault(`Harbor cannot write to JOBS_DIR (${config.jobsDir}): ${said}`));
      const status = exit.exitCode ?? exit.signal ?? 'unknown';
      return finished(
        infra(
          `Harbor exited with ${typeof status === 'number' ? `status ${status}` : status} without a trial result${said ? `:\n${said}` : ''}`,
          'HarborFailed',
          relative(trialDir),
        ),
      );
    } catch (error) {
      if (error instanceof RunnerFault) return unhealthy(error);
      return finished(infra(`the runner failed to run Harbor: ${(error as Error).message}`, 'RunnerError', relative(trialDir)));
    } finally {
      for (const timer of timers) clearTimeout(timer);
      // Best-effort: a read-only or full JOBS_DIR must not turn a finished trial into an error.
      await rm(configFile, { force: true }).catch((error: Error) => hooks.log(`run ${order.runId}: cannot remove ${configFile}: ${error.message}`));
      // The last lines go out before the outcome, so a finished run's log is already complete.
      await stopCapture().catch((error: Error) => hooks.log(`run ${order.runId}: stopping the log capture: ${error.message}`));
      // Before the outcome is published: from then on the API serves these files.
      await scrubTrialFiles(jobDir, keys, (line) => hooks.log(`run ${order.runId}: ${line}`));
    }
  })().then((outcome) => scrubOutcome(outcome, createScrubber(keys, hostPathPlaceholders(config))));

  return { order, stop, done };
}
