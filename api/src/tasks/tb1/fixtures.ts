// Test fixtures (imported only by tests): Terminal-Bench 1 tasks in the shapes the TB1 harness
// read (task.yaml, root Dockerfile, the harness's docker-compose.yaml template, run-tests.sh with
// $TEST_DIR, solution.sh or solution.yaml), written for these tests.

export type Files = Record<string, string>;

export const TB1_COMPOSE_DEFAULT = `services:
  client:
    build:
      dockerfile: Dockerfile
    image: \${T_BENCH_TASK_DOCKER_CLIENT_IMAGE_NAME}
    container_name: \${T_BENCH_TASK_DOCKER_CLIENT_CONTAINER_NAME}
    command: [ "sh", "-c", "sleep infinity" ]
    environment:
      - TEST_DIR=\${T_BENCH_TEST_DIR}
    volumes:
      - \${T_BENCH_TASK_LOGS_PATH}:\${T_BENCH_CONTAINER_LOGS_PATH}
      - \${T_BENCH_TASK_AGENT_LOGS_PATH}:\${T_BENCH_CONTAINER_AGENT_LOGS_PATH}
`;

/** The run-tests.sh most TB1 tasks share: installs uv and pytest, refuses to run in /. */
export const TB1_RUN_TESTS = `#!/bin/bash

# Install curl
apt-get update
apt-get install -y curl

# Install uv
curl -LsSf https://astral.sh/uv/0.7.13/install.sh | sh

source $HOME/.local/bin/env

# Check if we're in a valid working directory
if [ "$PWD" = "/" ]; then
    echo "Error: No working directory set. Please set a WORKDIR in your Dockerfile before running this script."
    exit 1
fi

uv venv .tbench-testing

source .tbench-testing/bin/activate
uv pip install pytest==8.4.1

uv run pytest $TEST_DIR/test_outputs.py -rA
`;

export function taskYaml(overrides: Record<string, string> = {}): string {
  const fields: Record<string, string> = {
    instruction: '|-\n  Create a file called hello.txt in the current directory.\n  Write "Hello, world!" to it.',
    author_name: 'Test Author',
    author_email: 'test@example.com',
    difficulty: 'easy',
    category: 'file-operations',
    tags: '\n  - file-operations\n  - hello-world',
    parser_name: 'pytest',
    max_agent_timeout_sec: '360.0',
    max_test_timeout_sec: '60.0',
    run_tests_in_same_shell: 'false',
    expert_time_estimate_min: '1',
    junior_time_estimate_min: '5',
    ...overrides,
  };
  return Object.entries(fields)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')
    .concat('\n');
}

/** Dockerfile-only (no compose file): the old harness base image, which set WORKDIR /app. */
export function dockerfileTask(overrides: Files = {}): Files {
  return {
    'task.yaml': taskYaml(),
    Dockerfile: 'FROM ghcr.io/laude-institute/t-bench/ubuntu-24-04:20250624\n\nRUN apt-get update && apt-get install -y python3\n',
    'run-tests.sh': TB1_RUN_TESTS,
    'solution.sh': '#!/bin/bash\necho "Hello, world!" > hello.txt\n',
    'tests/test_outputs.py': 'from pathlib import Path\n\n\ndef test_hello():\n    assert Path("/app/hello.txt").read_text().strip() == "Hello, world!"\n',
    ...overrides,
  };
}

/** A web app and its database: the harness compose template plus a second service. */
export function composeTask(overrides: Files = {}): Files {
  return {
    'task.yaml': taskYaml({
      instruction: '|-\n  The app in /app cannot reach its database at db:5432. Fix it.',
      difficulty: 'medium',
      category: 'system-administration',
      max_agent_timeout_sec: '900.0',
      max_test_timeout_sec: '300.0',
    }),
    Dockerfile: 'FROM ghcr.io/laude-institute/t-bench/python-3-13:20250620\n\nCOPY app/ /app/\nRUN pip install psycopg==3.2.9\n',
    'docker-compose.yaml': `services:
  client:
    build:
      dockerfile: Dockerfile
    image: \${T_BENCH_TASK_DOCKER_CLIENT_IMAGE_NAME}
    container_name: \${T_BENCH_TASK_DOCKER_CLIENT_CONTAINER_NAME}
    command: [ "sh", "-c", "sleep infinity" ]
    environment:
      - TEST_DIR=\${T_BENCH_TEST_DIR}
      - DATABASE_URL=postgresql://app:secret@db:5432/app
    volumes:
      - \${T_BENCH_TASK_LOGS_PATH}:\${T_BENCH_CONTAINER_LOGS_PATH}
      - \${T_BENCH_TASK_AGENT_LOGS_PATH}:\${T_BENCH_CONTAINER_AGENT_LOGS_PATH}
    depends_on:
      - db
  db:
    image: postgres:16
    container_name: \${T_BENCH_TASK_DOCKER_NAME_PREFIX}__db
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: secret
`,
    'app/main.py': 'import os\nimport psycopg\n\nprint(psycopg.connect(os.environ["DATABASE_URL"]).info.status)\n',
    'run-tests.sh': '#!/bin/bash\npip install pytest==8.4.1\npytest $TEST_DIR/test_outputs.py -rA\n',
    'solution.sh': '#!/bin/bash\nsed -i "s/5433/5432/" /app/main.py\n',
    'tests/test_outputs.py': 'import subprocess\n\n\ndef test_connects():\n    assert subprocess.run(["python", "/app/main.py"]).returncode == 0\n',
    ...overrides,
  };
}

/** An old task whose oracle is tmux keystrokes. */
export function solutionYamlTask(): Files {
  const files = dockerfileTask({
    'solution.yaml': '- command: echo "Hello, world!" > hello.txt\n  min_timeout_sec: 0.1\n  block: true\n  append_enter: true\n',
  });
  delete files['solution.sh'];
  return files;
}
