import { describe, expect, it } from 'vitest';
import { topology } from './topology.js';

describe('topology', () => {
  it('uses the documented names without a prefix', () => {
    const t = topology();
    expect(t.streams.runs).toEqual({ name: 'RUNS', subjects: ['runs.*.*', 'runs.*.*.*'] });
    expect(t.runOrder('j1', 'r1', 'docker_gpu')).toBe('runs.docker_gpu.j1.r1');
    expect(t.poolOrders('modal')).toBe('runs.modal.*.*');
    expect(t.poolOrders()).toBe('runs.*.*');
    expect(t.streams.events.name).toBe('EVENTS');
    expect(t.streams.logs.subjects).toEqual(['logs.*']);
    expect(t.runnersBucket).toBe('runners');
    expect(t.runOrder('j1', 'r1')).toBe('runs.j1.r1');
    expect(t.runEvent('j1', 'r1')).toBe('events.j1.r1');
    expect(t.runLog('r1')).toBe('logs.r1');
    expect(t.cancelRun('r1')).toBe('cancel.r1');
    expect(t.jobUpdate('j1')).toBe('updates.job.j1');
  });

  it('isolates a prefix in stream names and subjects', () => {
    const t = topology('t42');
    expect(t.streams.runs).toEqual({ name: 't42_RUNS', subjects: ['t42.runs.*.*', 't42.runs.*.*.*'] });
    expect(t.runnersBucket).toBe('t42_runners');
    expect(t.cancelledBucket).toBe('t42_cancelled');
    expect(t.updates).toBe('t42.updates.>');
  });

  it('refuses ids that would change a subject', () => {
    const t = topology();
    expect(() => t.runOrder('a.b', 'r')).toThrow(/job id "a.b" cannot be a NATS subject token/);
    expect(() => t.runLog('>')).toThrow(/run id/);
    expect(() => topology('bad.prefix')).toThrow(/NATS prefix/);
  });
});
