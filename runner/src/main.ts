// The runner process: configuration, connection and signals; the work is in runner.ts.
// SIGTERM once: stop pulling and let running trials finish (up to RUNNER_DRAIN_TIMEOUT_MS).
// Twice: stop the trials now, their orders go back to the queue. Three times: exit at once.
import { connect } from '@nats-io/transport-node';
import { readRunnerConfig, RunnerConfigError } from './config.js';
import { PARENT_DEATH_MISSING } from './harbor/process.js';
import { CapabilityConfigError, ENVIRONMENT_NEEDS, EXTRA_MODULES, findCapabilities, heldCredentials, sandboxEnv, TESTED_HARBOR, type MachineFacts } from './capabilities.js';
import { probeBinaries, probeDocker, probeGpus, probeHarborModules, probeMachine } from './probe.js';
import { natsConnectOptions, topology } from './protocol/index.js';
import { startRunner } from './runner.js';
import { startRunnerMetricsServer } from './metrics/server.js';

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
  let credentials: Map<string, string>;
  try {
    credentials = heldCredentials(config);
  } catch (error) {
    if (error instanceof CapabilityConfigError) fail(error.message);
    throw error;
  }
  const binaries = Object.values(ENVIRONMENT_NEEDS).flatMap((n) => (n.binary ? [n.binary] : []));
  const [probe, found, gpus, harborModules] = await Promise.all([
    probeMachine(config.harborBin),
    probeBinaries(binaries),
    config.gpus ?? probeGpus(),
    probeHarborModules(config.harborBin, EXTRA_MODULES),
  ]);
  const facts: MachineFacts = { dockerReachable: probe.dockerReachable, binaries: found, gpus, harborVersion: probe.harborVersion, harborModules };
  let capabilities = findCapabilities(config, facts, credentials!);
  if (probe.lastError) log(`warning: ${probe.lastError}`);
  else if (!capabilities.harborTested) {
    log(`warning: Harbor ${probe.harborVersion} is outside the tested range ${TESTED_HARBOR.label}; running it anyway`);
  }
  if (probe.dockerReachable === false) log('warning: Docker is not reachable; docker-environment trials will fail');
  // Names only: the values never leave this process except into Harbor's environment.
  log(`serves ${capabilities.environmentTypes.join(', ') || 'no environment type'}${credentials!.size ? ` (sandbox credentials: ${[...credentials!.keys()].join(', ')})` : ''}`);
  // Docker that starts (or stops) after the runner changes what it serves.
  setInterval(() => {
    void probeDocker().then((dockerReachable) => {
      capabilities = findCapabilities(config, { ...facts, dockerReachable }, credentials);
    });
  }, 60_000).unref();
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
  const runner = await startRunner({
    config,
    nats,
    topology: topology(config.natsPrefix),
    probe,
    capabilities: () => capabilities,
    sandboxEnv: (order) => sandboxEnv(order.harbor.environmentType, credentials),
    log,
  }).catch((error: Error) =>
    fail(`cannot set up JetStream: ${error.message}`),
  );
  if (config.metrics) {
    const { port, host } = config.metrics;
    const served = await startRunnerMetricsServer(runner.metrics, config.metrics).catch((error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use; set RUNNER_METRICS_PORT to another port`
          : `cannot listen for metrics on ${host}:${port}: ${error.message}`,
      ),
    );
    log(`metrics at ${served.url}`);
  }
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
