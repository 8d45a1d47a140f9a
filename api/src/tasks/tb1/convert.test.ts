import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { planTb1Conversion, type PlannedFile, type Tb1Plan } from './convert.js';
import { composeTask, dockerfileTask, solutionYamlTask, TB1_COMPOSE_DEFAULT, taskYaml, type Files } from './fixtures.js';

function plan(files: Files): Tb1Plan {
  return planTb1Conversion({
    files: Object.keys(files).sort(),
    text: (p) => files[p] ?? null,
    executable: (p) => p.endsWith('.sh'),
  });
}

function converted(files: Files): Map<string, PlannedFile> {
  const result = plan(files);
  if (!result.ok) throw new Error(`not converted: ${result.reasons.map((r) => r.message).join('; ')}`);
  return new Map(result.files.map((f) => [f.path, f]));
}

const data = (file: PlannedFile | undefined) => (file && 'data' in file ? file.data : undefined);

describe('TB1 → TB2 conversion', () => {
  it('maps a Dockerfile-only task: FROM rewritten, WORKDIR /app, ENV TEST_DIR, task.toml from task.yaml', () => {
    const out = converted(dockerfileTask());
    expect([...out.keys()].sort()).toEqual([
      'environment/Dockerfile',
      'instruction.md',
      'solution/solve.sh',
      'task.toml',
      'tests/run-tests.sh',
      'tests/test.sh',
      'tests/test_outputs.py',
    ]);
    expect(data(out.get('environment/Dockerfile'))).toBe(
      'FROM ubuntu:24.04\nWORKDIR /app\n\nRUN apt-get update && apt-get install -y python3\n\n' +
        '# Mapped from the TB1 docker-compose.yaml and harness\nENV TEST_DIR=/tests\n',
    );
    expect(data(out.get('instruction.md'))).toBe('Create a file called hello.txt in the current directory.\nWrite "Hello, world!" to it.\n');
    expect(parseToml(data(out.get('task.toml'))!)).toEqual({
      version: '1.0',
      metadata: {
        author_name: 'Test Author',
        author_email: 'test@example.com',
        difficulty: 'easy',
        category: 'file-operations',
        tags: ['file-operations', 'hello-world'],
        expert_time_estimate_min: 1,
        junior_time_estimate_min: 5,
      },
      verifier: { timeout_sec: 60 },
      agent: { timeout_sec: 360 },
      environment: { build_timeout_sec: 600, cpus: 1, memory_mb: 2048, storage_mb: 10240 },
    });
    expect(out.get('solution/solve.sh')).toEqual({ path: 'solution/solve.sh', from: 'solution.sh', executable: true });
    expect(out.get('tests/test_outputs.py')).toEqual({ path: 'tests/test_outputs.py', from: 'tests/test_outputs.py', executable: false });
  });

  it('keeps a script that can exit early as tests/run-tests.sh behind a wrapper that writes the reward', () => {
    const out = converted(dockerfileTask());
    const kept = data(out.get('tests/run-tests.sh'))!;
    expect(kept).toContain('uv run pytest /tests/test_outputs.py -rA');
    expect(kept).not.toContain('$TEST_DIR');
    expect(data(out.get('tests/test.sh'))).toBe(
      '#!/bin/bash\n# Added by the TB1 conversion: run the original test script, then write the reward Harbor reads.\n' +
        'bash /tests/run-tests.sh\nstatus=$?\n' +
        'if [ "$status" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\nexit "$status"\n',
    );
  });

  it('appends the reward block to a script that runs to its end', () => {
    const out = converted(dockerfileTask({ 'run-tests.sh': '#!/bin/bash\npytest ${TEST_DIR}/test_outputs.py -rA' }));
    expect(out.has('tests/run-tests.sh')).toBe(false);
    expect(data(out.get('tests/test.sh'))).toBe(
      '#!/bin/bash\npytest /tests/test_outputs.py -rA\n\n# Added by the TB1 conversion: write the reward Harbor reads from the exit status.\n' +
        'status=$?\nif [ "$status" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi\nexit "$status"\n',
    );
  });

  it('collapses the harness compose template with extra settings into Dockerfile lines', () => {
    const compose = TB1_COMPOSE_DEFAULT.replace(
      '      - TEST_DIR=${T_BENCH_TEST_DIR}\n',
      '      - TEST_DIR=${T_BENCH_TEST_DIR}\n      - PYTHONUNBUFFERED=1\n',
    ).concat('    working_dir: /srv/app\n    expose:\n      - 8080\n    platform: linux/amd64\n');
    const out = converted(dockerfileTask({ 'docker-compose.yaml': compose }));
    expect(out.has('environment/docker-compose.yaml')).toBe(false);
    expect(data(out.get('environment/Dockerfile'))).toBe(
      'FROM --platform=linux/amd64 ubuntu:24.04\nWORKDIR /app\n\nRUN apt-get update && apt-get install -y python3\n\n' +
        '# Mapped from the TB1 docker-compose.yaml and harness\nENV TEST_DIR=/tests\nENV PYTHONUNBUFFERED="1"\nWORKDIR /srv/app\nEXPOSE 8080\n',
    );
  });

  it('turns a multi-container task into a compose environment with Harbor\'s main service', () => {
    const result = plan(composeTask());
    expect(result.ok).toBe(true);
    const out = converted(composeTask());
    const compose = parseYaml(data(out.get('environment/docker-compose.yaml'))!);
    expect(compose).toEqual({
      services: {
        main: {
          build: { context: '${CONTEXT_DIR}' },
          image: '${MAIN_IMAGE_NAME}',
          command: ['sh', '-c', 'sleep infinity'],
          environment: ['TEST_DIR=${TEST_DIR}'],
          deploy: { resources: { limits: { cpus: '${CPUS}', memory: '${MEMORY}' } } },
          depends_on: ['db'],
        },
        db: { image: 'postgres:16', container_name: 'hb__db', environment: { POSTGRES_USER: 'app', POSTGRES_PASSWORD: 'secret' } },
      },
    });
    // The image still gets the main service's own environment, and the old python base is replaced.
    expect(data(out.get('environment/Dockerfile'))).toContain('FROM python:3.13-slim-bookworm\nWORKDIR /app\n');
    expect(data(out.get('environment/Dockerfile'))).toContain('ENV DATABASE_URL="postgresql://app:secret@db:5432/app"\n');
    expect(out.get('environment/app/main.py')).toEqual({ path: 'environment/app/main.py', from: 'app/main.py', executable: false });
    const notes = (result as Extract<Tb1Plan, { ok: true }>).notes;
    expect(notes).toContainEqual({ kind: 'warning', message: 'multi-container task (client, db): "client" became "main"; check the other services by hand' });
    expect(notes).toContainEqual({ kind: 'changed', message: 'docker-compose.yaml became environment/docker-compose.yaml (service "main" built by Harbor, other services kept)' });
  });

  it('copies tests/ into the build context when the Dockerfile copies it', () => {
    const out = converted(dockerfileTask({ Dockerfile: 'FROM ubuntu:24.04\nWORKDIR /app\nCOPY tests/ /opt/tests/\n' }));
    expect(out.get('environment/tests/test_outputs.py')).toMatchObject({ from: 'tests/test_outputs.py' });
    // A base image that is not a harness image is left alone.
    expect(data(out.get('environment/Dockerfile'))!.startsWith('FROM ubuntu:24.04\nWORKDIR /app\nCOPY tests/')).toBe(true);
  });

  it('rejects solution.yaml, naming the reason', () => {
    const result = plan(solutionYamlTask());
    expect(result).toEqual({
      ok: false,
      reasons: [
        {
          message: "solution.yaml (tmux keystrokes) cannot be converted automatically (Harbor's mapper refuses it too); write solution.sh",
          path: 'solution.yaml',
        },
      ],
    });
  });

  it('lists every reason a task cannot be converted', () => {
    const files = dockerfileTask({
      'task.yaml': taskYaml({ parser_name: 'swebench', run_tests_in_same_shell: 'true' }),
      'run-tests.sh': '#!/bin/bash\nsource $TEST_DIR/setup-uv-pytest.sh\nbash $TEST_DIR/run-uv-pytest.sh\n',
      'docker-compose.yaml': TB1_COMPOSE_DEFAULT.replace('    command:', '    privileged: true\n    shm_size: ${T_BENCH_SHM_SIZE}\n    command:'),
    });
    const result = plan(files);
    expect(result.ok).toBe(false);
    expect((result as Extract<Tb1Plan, { ok: false }>).reasons.map((r) => [r.path, r.message])).toEqual([
      ['task.yaml', expect.stringContaining('parser_name is "swebench"')],
      ['task.yaml', expect.stringContaining('run_tests_in_same_shell is true')],
      ['run-tests.sh', 'run-tests.sh reads $TEST_DIR/setup-uv-pytest.sh, which the TB1 harness provided and the task does not contain (tests/setup-uv-pytest.sh)'],
      ['run-tests.sh', 'run-tests.sh reads $TEST_DIR/run-uv-pytest.sh, which the TB1 harness provided and the task does not contain (tests/run-uv-pytest.sh)'],
      ['docker-compose.yaml', 'docker-compose.yaml uses harness variables Harbor does not set: T_BENCH_SHM_SIZE'],
      ['docker-compose.yaml', 'docker-compose.yaml service "client" is privileged'],
    ]);
  });

  it('reads the oldest form of the instruction and warns about a short verifier timeout', () => {
    const files = dockerfileTask({
      'task.yaml': 'descriptions:\n  - key: base\n    description: Say hello.\nauthor_email: a@example.com\n',
      'run-tests.sh': 'pytest $TEST_DIR/test_outputs.py\n',
    });
    const result = plan(files);
    if (!result.ok) throw new Error('expected a conversion');
    expect(data(result.files.find((f) => f.path === 'instruction.md'))).toBe('Say hello.\n');
    expect(result.notes.filter((n) => n.kind === 'warning').map((n) => n.message)).toEqual(
      expect.arrayContaining([
        'the instruction came from descriptions[key=base] (the oldest TB1 form)',
        '[verifier].timeout_sec is 60 s (from max_test_timeout_sec); TB2-style tests that install their tools usually need 300 s or more',
      ]),
    );
  });
});
