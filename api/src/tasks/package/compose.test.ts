import { describe, expect, it } from 'vitest';
import { composeHostAccess } from './compose.js';

describe('composeHostAccess', () => {
  it('finds nothing in the compose files TB2 tasks ship (build context, named volumes, task-relative binds)', () => {
    const tb2 = `
services:
  main:
    build:
      context: \${CONTEXT_DIR}
    image: \${MAIN_IMAGE_NAME}
    command: [ "sh", "-c", "sleep infinity" ]
    environment:
      - TEST_DIR=\${TEST_DIR}
    volumes:
      - \${HOST_VERIFIER_LOGS_PATH}:\${ENV_VERIFIER_LOGS_PATH}
      - ./data:/data:ro
      - ../tests:/tests
      - cache:/root/.cache
      - /tmp
      - type: volume
        source: cache
        target: /cache
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    network_mode: bridge
  db:
    image: postgres:16
    env_file: ./db.env
volumes:
  cache: {}
`;
    expect(composeHostAccess(tb2)).toEqual([]);
    expect(composeHostAccess('')).toEqual([]);
  });

  it('names every way a service reaches the host', () => {
    const hostile = `
services:
  main:
    build: .
    privileged: true
    network_mode: host
    pid: "host"
    ipc: host
    userns_mode: host
    cap_add: [SYS_ADMIN, NET_ADMIN]
    devices:
      - /dev/kmsg:/dev/kmsg
    security_opt:
      - seccomp:unconfined
      - apparmor=unconfined
    volumes:
      - /:/host
      - /var/run/docker.sock:/var/run/docker.sock
      - ~/.ssh:/ssh:ro
      - ../../../other-task:/other
      - type: bind
        source: /etc
        target: /host-etc
      - type: bind
        source: ./inside
        target: /inside
`;
    expect(composeHostAccess(hostile)).toEqual([
      'service main: privileged: true',
      'service main: network_mode: host',
      'service main: pid: host',
      'service main: ipc: host',
      'service main: userns_mode: host',
      'service main: cap_add: SYS_ADMIN, NET_ADMIN',
      'service main: devices: /dev/kmsg:/dev/kmsg',
      'service main: security_opt: seccomp:unconfined',
      'service main: security_opt: apparmor=unconfined',
      'service main: mounts the host path /',
      'service main: mounts the Docker socket (/var/run/docker.sock): full control of the runner\'s Docker',
      'service main: mounts the host path ~/.ssh',
      'service main: mounts ../../../other-task, outside the task folder',
      'service main: mounts the host path /etc',
    ]);
  });

  it('sees host binds hidden in named volumes, build contexts, env files, extends, secrets and anchors', () => {
    const hidden = `
x-root: &root
  volumes: ["/root:/r"]
services:
  side:
    <<: *root
  main:
    build: { context: ../.. }
    env_file: [/etc/environment]
    extends: { file: /srv/other/compose.yaml, service: base }
    volumes: [etc:/etc-copy]
volumes:
  etc:
    driver: local
    driver_opts: { type: none, o: bind, device: /etc }
secrets:
  token:
    file: /root/.token
`;
    expect(composeHostAccess(hidden)).toEqual([
      'service side: mounts the host path /root',
      'service main: build context ../.., outside the task folder',
      'service main: env_file reads /etc/environment',
      'service main: extends a file /srv/other/compose.yaml',
      'volume etc: binds the host path /etc',
      'secrets token: reads /root/.token',
    ]);
  });

  it('treats a file it cannot read as a finding: what cannot be checked is not trusted', () => {
    expect(composeHostAccess('services: [unclosed')[0]).toMatch(/^the compose file cannot be read as YAML/);
    expect(composeHostAccess('- a list')).toEqual(['the compose file is not a mapping, so it cannot be checked']);
    // A billion-laughs file fails on its aliases instead of expanding.
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 9 }, (_, i) => {
      const p = String.fromCharCode(97 + i);
      const n = String.fromCharCode(98 + i);
      return `${n}: &${n} [*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p}]`;
    })].join('\n');
    expect(composeHostAccess(bomb)[0]).toMatch(/cannot be read as YAML/);
  });
});
