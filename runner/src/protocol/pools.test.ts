import { describe, expect, it } from 'vitest';
import { decode, PROTOCOL_VERSION, runnerHeartbeatSchema } from './messages.js';
import { describePool, parsePool, poolOf } from './pools.js';

const beat = {
  v: PROTOCOL_VERSION, runnerId: 'r1', host: 'h', slots: 2, busy: 0, runIds: [], harborVersion: '0.24.1', dockerReachable: true,
  lastError: null, startedAt: '2026-12-06T10:00:00Z', at: '2026-12-06T10:00:05Z', draining: false, degraded: null,
};

describe('pools', () => {
  it('names a pool by environment type, Windows and GPU, and reads it back', () => {
    expect(poolOf({ environmentType: 'apple-container', windows: false, gpu: false })).toBe('apple-container');
    expect(poolOf({ environmentType: 'docker', windows: true, gpu: true })).toBe('docker_windows_gpu');
    expect(parsePool('modal_gpu')).toEqual({ environmentType: 'modal', windows: false, gpu: true });
    expect(parsePool('nope')).toBeNull();
    expect(parsePool('docker_gpu_windows')).toBeNull();
    expect(describePool('docker_windows_gpu')).toBe('docker (Windows, GPU)');
  });
});

describe('heartbeat capabilities', () => {
  it('reads a heartbeat with capabilities, and one from a runner older than them', () => {
    const capabilities = { environmentTypes: ['docker', 'daytona'], unavailable: [{ environmentType: 'modal', reason: 'no MODAL_TOKEN_ID' }], windows: false, gpus: 1, harborTested: true };
    expect(decode(runnerHeartbeatSchema, JSON.stringify({ ...beat, capabilities }), 'heartbeat').capabilities).toEqual(capabilities);
    expect(decode(runnerHeartbeatSchema, JSON.stringify(beat), 'heartbeat').capabilities).toBeUndefined();
  });

  it('names what is wrong in bad capabilities', () => {
    const bad = { ...beat, capabilities: { environmentTypes: ['dockr'], unavailable: [], windows: false, gpus: -1, harborTested: null } };
    expect(() => decode(runnerHeartbeatSchema, JSON.stringify(bad), 'heartbeat')).toThrow(/capabilities\.environmentTypes\.0: .*capabilities\.gpus/s);
  });
});
