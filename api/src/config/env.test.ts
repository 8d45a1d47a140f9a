import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './env.js';
import { repoRoot } from './paths.js';

describe('readConfig', () => {
  it('has defaults for a fresh machine: embedded services and data under .data/', () => {
    const config = readConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 4000,
      databaseUrl: undefined,
      natsUrl: undefined,
      natsPrefix: '',
      dataDir: path.join(repoRoot, '.data'),
      tasksDir: path.join(repoRoot, '.data/tasks'),
      jobsDir: path.join(repoRoot, '.data/jobs'),
      // Its own folder: imports never read the database, tokens or job files under DATA_DIR.
      datasetImportRoot: path.join(repoRoot, '.data/imports'),
    });
    expect(readConfig({ DATASET_IMPORT_ROOT: '/mnt/nfs/benchmarks' }).datasetImportRoot).toBe('/mnt/nfs/benchmarks');
  });

  it('treats an empty variable as unset', () => {
    expect(readConfig({ DATABASE_URL: '', PORT: '' })).toMatchObject({ databaseUrl: undefined, port: 4000 });
  });

  it('takes valid settings', () => {
    const config = readConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://u:p@db:5432/app',
      NATS_URL: 'nats://a:4222, nats://b:4222',
      DATA_DIR: '/srv/data',
      TASKS_DIR: '/mnt/nfs/tasks',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgresql://u:p@db:5432/app',
      natsUrl: 'nats://a:4222, nats://b:4222',
      dataDir: '/srv/data',
      tasksDir: '/mnt/nfs/tasks',
      jobsDir: '/srv/data/jobs',
    });
  });

  it('names every bad variable and what it expects, one line each', () => {
    let error: unknown;
    try {
      readConfig({ PORT: '70000', DATABASE_URL: 'mysql://x', NATS_URL: 'localhost:4222', NATS_PREFIX: 'a.b' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.split('\n')).toEqual([
      'PORT must be a port from 0 to 65535 (got "70000")',
      'DATABASE_URL must be a URL like postgresql://user@host:5432/db (got "mysql://x")',
      'NATS_URL must be one or more comma-separated URLs like nats://host:4222 (got "localhost:4222")',
      "NATS_PREFIX must be letters, digits, '-' and '_' only (got \"a.b\")",
    ]);
  });

  it('never echoes a password from a bad URL', () => {
    expect(() => readConfig({ NATS_URL: 'nats://api:hunter2@ bad host' })).toThrow('NATS_URL must be one or more comma-separated URLs like nats://host:4222 (got "nats://api:***@ bad host")');
  });

  it('rejects a port that is not a number', () => {
    expect(() => readConfig({ PORT: 'abc' })).toThrow('PORT must be a port number (got "abc")');
  });

  it('reads the edge settings: PUBLIC_URL gives the default CORS origin, lists are trimmed, limits are numbers', () => {
    expect(readConfig({}).edge).toMatchObject({ publicUrl: null, corsOrigins: [], allowedHosts: [], graphiql: true, maxBodyBytes: 1024 * 1024 });
    const edge = readConfig({
      PUBLIC_URL: 'https://thr.example.com/app',
      ALLOWED_HOSTS: 'thr.internal, Thr.Lan:8080',
      GRAPHIQL: 'false',
      MAX_BODY_BYTES: '2048',
      QUERY_MAX_COST: '900',
    }).edge;
    expect(edge).toMatchObject({ corsOrigins: ['https://thr.example.com'], allowedHosts: ['thr.internal', 'thr.lan:8080'], graphiql: false, maxBodyBytes: 2048 });
    expect(edge.query.maxCost).toBe(900);
    expect(readConfig({ PUBLIC_URL: 'https://thr.example.com', CORS_ORIGINS: 'https://a.example, http://b.example:8080/' }).edge.corsOrigins).toEqual([
      'https://a.example',
      'http://b.example:8080',
    ]);
  });

  it('reads NATS_LOGS_MAX_BYTES for the LOGS stream, 10 GiB by default, and refuses a size it cannot use', () => {
    expect(readConfig({}).streamLimits.logsMaxBytes).toBe(10 * 1024 ** 3);
    expect(readConfig({ NATS_LOGS_MAX_BYTES: '67108864' }).streamLimits.logsMaxBytes).toBe(64 * 1024 ** 2);
    expect(() => readConfig({ NATS_LOGS_MAX_BYTES: '10G' })).toThrow(/NATS_LOGS_MAX_BYTES must be a number of bytes/);
    expect(() => readConfig({ NATS_LOGS_MAX_BYTES: '1000' })).toThrow(/NATS_LOGS_MAX_BYTES must be at least 1 MiB/);
  });

  it('refuses malformed edge settings, naming the variable', () => {
    expect(() => readConfig({ CORS_ORIGINS: 'https://a.example/path' })).toThrow(/CORS_ORIGINS must be comma-separated origins/);
    expect(() => readConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
    expect(() => readConfig({ PUBLIC_URL: 'thr.example.com' })).toThrow(/PUBLIC_URL must be an http\(s\) URL/);
    expect(() => readConfig({ ALLOWED_HOSTS: 'a b' })).toThrow(/ALLOWED_HOSTS/);
    expect(() => readConfig({ GRAPHIQL: 'off' })).toThrow(/GRAPHIQL must be true or false/);
    expect(() => readConfig({ MAX_BODY_BYTES: '0' })).toThrow(/MAX_BODY_BYTES must be at least 1/);
    expect(() => readConfig({ QUERY_MAX_DEPTH: 'deep' })).toThrow(/QUERY_MAX_DEPTH must be a number of levels/);
  });
});

describe('readConfig: launch settings', () => {
  it('defaults to no custom agents and endpoint overrides for ADMIN only', () => {
    expect(readConfig({}).launchSettings).toEqual({ allowCustomAgents: false, endpointOverrideRoles: ['ADMIN'] });
  });

  it('reads ALLOW_CUSTOM_AGENTS and ENDPOINT_OVERRIDE_ROLES', () => {
    expect(readConfig({ ALLOW_CUSTOM_AGENTS: 'true', ENDPOINT_OVERRIDE_ROLES: 'admin, MEMBER' }).launchSettings).toEqual({
      allowCustomAgents: true,
      endpointOverrideRoles: ['ADMIN', 'MEMBER'],
    });
    expect(readConfig({ ENDPOINT_OVERRIDE_ROLES: 'none' }).launchSettings.endpointOverrideRoles).toEqual([]);
  });

  it('names a bad value', () => {
    expect(() => readConfig({ ALLOW_CUSTOM_AGENTS: 'yes' })).toThrow(/^ALLOW_CUSTOM_AGENTS must be true or false \(got "yes"\)/);
    expect(() => readConfig({ ENDPOINT_OVERRIDE_ROLES: 'ADMIN,ROOT' })).toThrow(/^ENDPOINT_OVERRIDE_ROLES must be a comma-separated list of ADMIN, MEMBER, VIEWER, or none/);
  });

  it('takes DEFAULT_<VAR> only for provider variables', () => {
    const config = readConfig({ SECRETS_KEY: 'a'.repeat(64), DEFAULT_OPENROUTER_API_KEY: 'sk-or-1', DEFAULT_PATH: '/tmp/evil' });
    expect(config.defaultProviderKeys).toEqual([{ envVar: 'OPENROUTER_API_KEY', value: 'sk-or-1' }]);
  });
});
