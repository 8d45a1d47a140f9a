import { describe, expect, it } from 'vitest';
import { hostChecker } from './hosts.js';

const check = (policy: Partial<Parameters<typeof hostChecker>[0]>, host: string | undefined) =>
  hostChecker({ publicUrl: null, allowedHosts: [], bindHost: '127.0.0.1', port: 4000, ...policy })(host);

describe('hostChecker', () => {
  it('serves the loopback names on the bound port of a loopback address, and nothing else', () => {
    for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000', 'LOCALHOST:4000']) expect(check({}, host), host).toBeNull();
    for (const host of ['evil.example:4000', 'localhost:4001', 'localhost', '10.0.0.5:4000', undefined, 'a b', '[::1']) {
      expect(check({}, host), String(host)).toMatch(/host|Host/);
    }
  });

  it("serves PUBLIC_URL's host with or without its default port, and ALLOWED_HOSTS with or without a port", () => {
    const publicUrl = new URL('https://thr.example.com/');
    expect(check({ publicUrl, bindHost: '10.0.0.5' }, 'thr.example.com')).toBeNull();
    expect(check({ publicUrl, bindHost: '10.0.0.5' }, 'thr.example.com:443')).toBeNull();
    expect(check({ publicUrl, bindHost: '10.0.0.5' }, 'thr.example.com:8443')).not.toBeNull();
    expect(check({ publicUrl, bindHost: '10.0.0.5' }, 'localhost:4000')).not.toBeNull();
    expect(check({ publicUrl, bindHost: '10.0.0.5' }, '10.0.0.5:4000')).toBeNull();
    expect(check({ allowedHosts: ['thr.internal'] }, 'thr.internal:9999')).toBeNull();
    expect(check({ allowedHosts: ['thr.internal:8080'] }, 'thr.internal:9999')).not.toBeNull();
    expect(check({ allowedHosts: ['thr.internal:8080'] }, 'thr.internal:8080')).toBeNull();
  });

  it('on every interface, serves loopback names and IP addresses on the bound port, not names', () => {
    for (const bindHost of ['0.0.0.0', '::']) {
      expect(check({ bindHost }, 'localhost:4000')).toBeNull();
      expect(check({ bindHost }, '192.168.1.20:4000')).toBeNull();
      expect(check({ bindHost }, '[fe80::1]:4000')).toBeNull();
      expect(check({ bindHost }, '192.168.1.20:4001')).not.toBeNull();
      expect(check({ bindHost }, 'rebound.evil.example:4000')).toMatch(/PUBLIC_URL or ALLOWED_HOSTS/);
    }
  });

  it('leaves the port out for port 80', () => {
    expect(check({ port: 80 }, 'localhost')).toBeNull();
    expect(check({ port: 80 }, 'localhost:80')).toBeNull();
  });
});
