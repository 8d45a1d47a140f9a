// One Run on this runner: report claimed → write the Harbor config → run Harbor → report started
// when the trial directory appears → read and classify the trial result → report finished.
// Cleanup (config file, timers, subscriptions) always runs; the outcome is reported last.
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { RunnerConfig } from './config.js';
import { buildHarborJobConfig, harborJobName } from './harbor/job-config.js';
import { classifyTrial } from './harbor/outcome.js';
import { HarborResultError, parseTrialResult } from './harbor/result.js';
import { readTrialTests } from './harbor/tests.js';
import { startLogCapture, type LogCapture } from './logs/index.js';
import type { LogChunk, RunOrder, RunResult } from './protocol/messages.js';
import { open } from './secrets/sealed.js';

/** Why a trial was stopped early; each leads to a different outcome. */
export type StopReason =
  | 'user' // cancelCommand: recorded CANCELLED
  | 'wall-clock' // ran past its guard: ERRORED / INFRASTRUCTURE
  | 'shutdown'; // the runner is going away: not reported, the order is redelivered

export interface TrialOutcome {
  /** null when the run must go back to the queue (runner shutdown). */
  result: RunResult | null;
}

export interface TrialHooks {
  started(trialDir: string): void;
  /** Publishes a chunk of this run's log; a failure is counted, never fatal. */
  publishLog(chunk: LogChunk): Promise<void>;
  /** Keeps the JetStream order alive while Harbor runs. */
  working(): void;
  log(line: string): void;
}

export interface Trial {
  readonly order: RunOrder;
  stop(reason: StopReason): void;
  readonly done: Promise<TrialOutcome>;
}

/** Variables Harbor may legitimately need from the runner's own environment; nothing else leaks in. */
const PASSED_THROUGH_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'DOCKER_HOST', 'DOCKER_CONFIG', 'XDG_RUNTIME_DIR'];
const OUTPUT_TAIL_BYTES = 8_192;

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

function cancelled(trialDir: string | null): RunResult {
  return { ...infra('cancelled by a user', 'CancelledError', trialDir), status: 'CANCELLED', failureKind: null };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/**
 * result.json is written non-atomically: an empty or half-written file (no field to blame) is read
 * again shortly; a complete file that breaks the schema is reported at once.
 */
async function readTrialResult(trialDir: string): Promise<ReturnType<typeof parseTrialResult> | null> {
  const file = path.join(trialDir, 'result.json');
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

export function startTrial(config: RunnerConfig, order: RunOrder, deliveryCount: number, hooks: TrialHooks): Trial {
  let stopReason: StopReason | null = null;
  let child: ResultPromise | null = null;
  let killTimer: NodeJS.Timeout | undefined;

  const signalGroup = (signal: NodeJS.Signals) => {
    if (!child?.pid) return;
    try {
      // Harbor runs in its own process group; signal all of it (docker compose children too).
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };

  // One SIGTERM lets Harbor record CancelledError and tear its containers down; a second would
  // abort that, so the next signal is SIGKILL after the grace period.
  const sendStop = () => {
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), config.cancelGraceMs);
  };
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    if (child) sendStop();
  };

  const done = (async (): Promise<TrialOutcome> => {
    const jobName = harborJobName(order, deliveryCount);
    const jobDir = path.join(config.jobsDir, jobName);
    const configDir = path.join(config.jobsDir, '.runner');
    const configFile = path.join(configDir, `${jobName}.json`);
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
      if (!(await exists(path.join(taskDir, 'task.toml')))) {
        return { result: infra(`task package ${order.taskDir} is not under TASKS_DIR (${config.tasksDir}); is the shared storage mounted on this runner?`) };
      }
      const env: Record<string, string> = { HARBOR_TELEMETRY: 'off' };
      for (const name of PASSED_THROUGH_ENV) if (process.env[name]) env[name] = process.env[name]!;
      // Simulator-only settings pass through so tests drive the same code path as production.
      for (const [name, value] of Object.entries(process.env)) if (name.startsWith('HARBOR_SIM_') && value) env[name] = value;
      for (const secret of order.secrets) {
        if (!config.secretsKey) return { result: infra('this runner has no SECRETS_KEY, so it cannot open the provider key of this run') };
        try {
          env[secret.envVar] = open(config.secretsKey, secret.ciphertext, secret.envVar);
        } catch (error) {
          return { result: infra((error as Error).message) };
        }
      }

      await mkdir(configDir, { recursive: true });
      await rm(jobDir, { recursive: true, force: true });
      await writeFile(configFile, JSON.stringify(buildHarborJobConfig(order, { taskDir, jobsDir: config.jobsDir }, deliveryCount), null, 2));

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
        pollMs: config.logPollMs,
        flushMs: config.logFlushMs,
        // Keys never leave the runner in a log line, whoever printed them.
        secrets: order.secrets.map((s) => env[s.envVar]!).filter(Boolean),
      });
      let output = '';
      const keepTail = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
        capture?.harborOutput(chunk);
      };
      if (stopReason === 'shutdown') return { result: null };
      if (stopReason === 'user') return { result: cancelled(null) };
      child = execa(config.harborBin, ['run', '-c', configFile, '-y', '--quiet'], {
        env,
        extendEnv: false,
        detached: true,
        reject: false,
        buffer: false,
        stdin: 'ignore',
        cleanup: true,
      });
      child.stdout?.on('data', keepTail);
      child.stderr?.on('data', keepTail);
      if (stopReason) sendStop();

      // Well inside the ack wait, so a busy event loop cannot make the order look abandoned.
      timers.push(setInterval(() => hooks.working(), Math.min(10_000, config.ackWaitMs / 3)));
      // A guard above Harbor's own timeouts catches a Harbor that hangs; none when the agent may run forever.
      const guardMs = order.maxDurationSec === null ? null : order.maxDurationSec * 1000 + config.wallClockSlackMs;
      if (guardMs !== null) timers.push(setTimeout(() => stop('wall-clock'), guardMs));

      const exit = await child;
      // The last read of Harbor's files also finds a trial directory that appeared just before it exited.
      await stopCapture();
      if (stopReason === 'shutdown') return { result: null };

      if (exit.failed && (exit as { code?: string }).code === 'ENOENT') {
        return { result: infra(`Harbor is not installed here: ${config.harborBin} was not found (set HARBOR_BIN)`, 'HarborMissing') };
      }
      let parsed: Awaited<ReturnType<typeof readTrialResult>> = null;
      try {
        parsed = trialDir ? await readTrialResult(trialDir) : null;
      } catch (error) {
        return { result: infra(`Harbor's trial result.json cannot be read: ${(error as Error).message}`, 'ResultUnreadable', relative(trialDir)) };
      }
      if (parsed) {
        // Failed and errored runs too: which tests failed is what people open them for.
        const tests = await readTrialTests(trialDir!);
        const result: RunResult = { ...classifyTrial(parsed), trialDir: relative(trialDir), ...(tests ? { tests } : {}) };
        if (stopReason === 'wall-clock' && result.status === 'CANCELLED') {
          return { result: infra(`the trial ran past the runner's wall-clock guard (${Math.round((guardMs ?? 0) / 1000)} s) and was stopped`, 'WallClockExceeded', relative(trialDir)) };
        }
        return { result };
      }
      if (stopReason === 'user') return { result: cancelled(relative(trialDir)) };
      if (stopReason === 'wall-clock') {
        return { result: infra(`the trial ran past the runner's wall-clock guard (${Math.round((guardMs ?? 0) / 1000)} s) and was killed`, 'WallClockExceeded', relative(trialDir)) };
      }
      const status = exit.exitCode ?? exit.signal ?? 'unknown';
      const said = output.trim().split('\n').slice(-5).join('\n');
      return {
        result: infra(
          `Harbor exited with ${typeof status === 'number' ? `status ${status}` : status} without a trial result${said ? `:\n${said}` : ''}`,
          'HarborFailed',
          relative(trialDir),
        ),
      };
    } catch (error) {
      return { result: infra(`the runner failed to run Harbor: ${(error as Error).message}`, 'RunnerError', relative(trialDir)) };
    } finally {
      for (const timer of timers) clearTimeout(timer);
      clearTimeout(killTimer);
      await rm(configFile, { force: true });
      // The last lines go out before the outcome, so a finished run's log is already complete.
      await stopCapture();
    }
  })();

  return { order, stop, done };
}
