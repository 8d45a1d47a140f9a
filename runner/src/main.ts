// The runner process: configuration, connection and signals; the work is in runner.ts.
// SIGTERM once: stop pulling and let running trials finish (up to RUNNER_DRAIN_TIMEOUT_MS).
// Twice: stop the trials now, their orders go back to the queue. Three times: exit at once.
import { connect } from '@nats-io/transport-node';
import { readRunnerConfig, RunnerConfigError } from './config.js';
import { PARENT_DEATH_MISSING } from './harbor/process.js';
import { PINNED_HARBOR_VERSION, probeMachine } from './probe.js';
import { natsConnectOptions, topology } from './protocol/index.js';
import { startRunner } from './runner.js';

const log = (line: string) => console.log(`[runner] ${line}`);
const fail = (message: string): never => {
  console.error(`[runner] ${message}`);
  process.exit(1);
};

async function main(): Promise<void> {
  let config;
  try {
    config = readRunnerConfig();
  } catch (error) {
    if (error instanceof RunnerConfigError) fail(error.message);
    throw error;
  }
  const probe = await probeMachine(config.harborBin);
  if (probe.lastError) log(`warning: ${probe.lastError}`);
  else if (probe.harborVersion !== PINNED_HARBOR_VERSION) {
    log(`warning: Harbor ${probe.harborVersion} found; this runner is written against ${PINNED_HARBOR_VERSION}`);
  }
  if (probe.dockerReachable === false) log('warning: Docker is not reachable; docker-environment trials will fail');
  if (!probe.parentDeath) log(`warning: ${PARENT_DEATH_MISSING}`);

  let settings;
  try {
    // Credentials and TLS from NATS_URL, NATS_USER/NATS_PASSWORD, NATS_CREDS or NATS_NKEY_SEED, NATS_TLS_*.
    settings = natsConnectOptions(config.natsUrl, 'runner');
  } catch (error) {
    fail((error as Error).message);
  }
  const servers = settings!.servers as string[];
  // noAsyncTraces: every JetStream publish (a log chunk, ~100/s per runner at 50 trials) otherwise
  // builds an Error up front for the call site's stack; a failed publish is still reported by message.
  const nats = await connect({ ...settings, name: `runner-${config.runnerId}`, timeout: 5_000, maxReconnectAttempts: -1, noAsyncTraces: true }).catch(
    (error: Error) => fail(`cannot connect to NATS at ${servers.join(', ')}: ${error.message}`),
  );
  const runner = await startRunner({ config, nats, topology: topology(config.natsPrefix), probe, log }).catch((error: Error) =>
    fail(`cannot set up JetStream: ${error.message}`),
  );
  log(`${config.runnerId} ready: ${config.concurrency} slot(s), Harbor ${probe.harborVersion ?? 'missing'} (${config.harborBin})`);

  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals === 1) {
      log(`${signal}: finishing ${runner.busy()} running trial(s), taking no new ones (again to stop them now)`);
      void runner.drain().then(shutdown);
    } else if (signals === 2) {
      log(`${signal} again: stopping running trials; their orders go back to the queue`);
      void runner.stop().then(shutdown);
    } else {
      process.exit(1);
    }
  };
  const shutdown = async () => {
    await nats.drain().catch(() => {});
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

void main();
