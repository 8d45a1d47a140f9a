// Terminal-Bench 1 → Terminal-Bench 2 (Harbor) conversion of one task folder, as a plan of output
// files (tb2-task-format.md §4; Harbor's mapper src/harbor/mappers/terminal_bench.py plus the
// base-image step that produced TB2). Pure: the caller reads the few text files the plan needs and
// applies the plan on disk. Everything that cannot be converted is listed, not only the first.
import { stringify } from 'smol-toml';
import { planCompose, rewriteDockerfile } from './environment.js';
import { readTaskYaml } from './task-yaml.js';

export interface Tb1Source {
  /** Every file of the TB1 task, relative to its folder. */
  files: string[];
  /** UTF-8 text of a file of the task (only the files named in TEXT_FILES are asked for); null when absent. */
  text(path: string): string | null;
  executable(path: string): boolean;
}

/** Files the conversion reads (everything else is copied byte for byte). */
export const TEXT_FILES = ['task.yaml', 'docker-compose.yaml', 'docker-compose.yml', 'run-tests.sh', 'solution.sh'];

export type PlannedFile =
  | { path: string; from: string; executable: boolean }
  | { path: string; data: string; executable: boolean };

export interface ConversionNote {
  kind: 'changed' | 'warning';
  message: string;
}

export type Tb1Plan = { ok: true; files: PlannedFile[]; notes: ConversionNote[] } | { ok: false; reasons: Array<{ message: string; path: string }> };

/** Harbor reads the reward from a file; TB1 parsed the test output. Captures the last command's status. */
const REWARD_LINES = `status=$?
if [ "$status" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi
exit "$status"
`;
const REWARD_BLOCK = `\n# Added by the TB1 conversion: write the reward Harbor reads from the exit status.\n${REWARD_LINES}`;

/** A script the appended block cannot follow safely: it may end before reaching it. */
const ENDS_EARLY = /(^|[\s;&|(])(exit|exec)\b|^\s*set\s+(-[a-zA-Z]*e|-o\s+errexit)|\btrap\b/m;

const TEST_DIR = /\$\{TEST_DIR\}|\$TEST_DIR\b/g;

function dockerfileCopies(dockerfile: string, what: string): boolean {
  return new RegExp(`^\\s*(COPY|ADD)\\s+(--\\S+\\s+)*(\\./)?${what.replace('.', '\\.')}\\b`, 'im').test(dockerfile);
}

export function planTb1Conversion(source: Tb1Source): Tb1Plan {
  const has = new Set(source.files);
  const reasons: Array<{ message: string; path: string }> = [];
  const notes: ConversionNote[] = [];
  const changed = (message: string) => notes.push({ kind: 'changed', message });
  const warn = (message: string) => notes.push({ kind: 'warning', message });

  const yamlText = source.text('task.yaml');
  const yaml = yamlText === null ? null : readTaskYaml(yamlText);
  if (yaml === null) reasons.push({ message: 'task.yaml is missing: the instruction and limits of a TB1 task live there', path: 'task.yaml' });
  else {
    for (const message of yaml.reasons) reasons.push({ message, path: 'task.yaml' });
    yaml.warnings.forEach(warn);
  }

  if (has.has('solution.yaml')) {
    if (has.has('solution.sh')) warn('solution.yaml dropped: solution.sh became solution/solve.sh');
    else reasons.push({ message: "solution.yaml (tmux keystrokes) cannot be converted automatically (Harbor's mapper refuses it too); write solution.sh", path: 'solution.yaml' });
  }
  const runTests = source.text('run-tests.sh');
  if (runTests === null) reasons.push({ message: 'run-tests.sh is missing: TB1 ran the tests through it', path: 'run-tests.sh' });
  else {
    for (const match of runTests.matchAll(/(?:\$\{TEST_DIR\}|\$TEST_DIR\b)\/([A-Za-z0-9._/-]+)/g)) {
      const file = match[1]!.replace(/\/+$/, '');
      const inTests = has.has(`tests/${file}`) || source.files.some((f) => f.startsWith(`tests/${file}/`));
      if (!inTests) {
        reasons.push({
          message: `run-tests.sh reads $TEST_DIR/${file}, which the TB1 harness provided and the task does not contain (tests/${file})`,
          path: 'run-tests.sh',
        });
      }
    }
  }

  const composeName = has.has('docker-compose.yaml') ? 'docker-compose.yaml' : has.has('docker-compose.yml') ? 'docker-compose.yml' : null;
  const compose = planCompose(composeName ? source.text(composeName) : null);
  for (const message of compose.reasons) reasons.push({ message, path: composeName ?? 'docker-compose.yaml' });
  const contextPrefix = compose.context === '.' ? '' : `${compose.context}/`;
  const dockerfilePath = `${contextPrefix}${compose.dockerfile}`;
  const dockerfileText = source.text(dockerfilePath);
  if (dockerfileText === null && compose.reasons.length === 0) {
    reasons.push({ message: `${dockerfilePath} is missing: the task's image is built from it`, path: dockerfilePath });
  }
  if (reasons.length > 0 || !yaml?.config || runTests === null || dockerfileText === null) return { ok: false, reasons };
  compose.warnings.forEach(warn);

  const files: PlannedFile[] = [];
  const taken = new Set<string>();
  const put = (file: PlannedFile) => {
    if (taken.has(file.path)) return warn(`${file.path} is written by the conversion; the task's own file of that name was not copied`);
    taken.add(file.path);
    files.push(file);
  };

  // task.toml and instruction.md.
  const config = yaml.config;
  const toml = {
    version: '1.0',
    metadata: config.metadata,
    verifier: { timeout_sec: config.testTimeoutSec },
    agent: { timeout_sec: config.agentTimeoutSec },
    // TB1 had no resource limits: TB2's common values, and the image is built at run time.
    environment: { build_timeout_sec: 600, cpus: 1, memory_mb: 2048, storage_mb: 10240 },
  };
  put({ path: 'task.toml', data: `# Converted from a Terminal-Bench 1 task.yaml\n${stringify(toml)}\n`, executable: false });
  put({ path: 'instruction.md', data: config.instruction, executable: false });
  changed('task.yaml became task.toml ([metadata], [agent] and [verifier] timeouts, TB2 resource defaults) and instruction.md');

  // The environment.
  const dockerfile = rewriteDockerfile(dockerfileText, compose, { changed, warn });
  put({ path: 'environment/Dockerfile', data: dockerfile, executable: false });
  changed(`${dockerfilePath} became environment/Dockerfile with ENV TEST_DIR=/tests${compose.additions.length > 1 ? ' and the compose settings' : ''} appended`);
  if (compose.compose !== null) {
    put({ path: 'environment/docker-compose.yaml', data: compose.compose, executable: false });
    changed(`${composeName} became environment/docker-compose.yaml (service "main" built by Harbor, other services kept)`);
  } else if (composeName) {
    changed(`${composeName} collapsed into the Dockerfile (one service, harness defaults only)`);
  }

  // Tests: the TB1 script becomes test.sh and writes the reward.
  const script = runTests.replace(TEST_DIR, '/tests');
  if (ENDS_EARLY.test(runTests)) {
    const kept = has.has('tests/run-tests.sh') ? 'tests/run-tests.tb1.sh' : 'tests/run-tests.sh';
    put({ path: kept, data: script, executable: true });
    const wrapper = `#!/bin/bash\n# Added by the TB1 conversion: run the original test script, then write the reward Harbor reads.\nbash /${kept}\n${REWARD_LINES}`;
    put({ path: 'tests/test.sh', data: wrapper, executable: true });
    changed(`run-tests.sh kept as ${kept} ($TEST_DIR → /tests); tests/test.sh runs it and writes the reward (it can exit early, so nothing appended to it would run)`);
  } else {
    put({ path: 'tests/test.sh', data: `${script}${script.endsWith('\n') ? '' : '\n'}${REWARD_BLOCK}`, executable: true });
    changed('run-tests.sh became tests/test.sh ($TEST_DIR → /tests) with a block that writes the reward from its exit status');
  }
  if (has.has('solution.sh')) {
    put({ path: 'solution/solve.sh', from: 'solution.sh', executable: true });
    changed('solution.sh became solution/solve.sh');
    if (dockerfileCopies(dockerfileText, 'solution.sh')) put({ path: 'environment/solution.sh', from: 'solution.sh', executable: source.executable('solution.sh') });
  } else warn('no solution.sh: the oracle agent cannot check this task');

  // Files copied as they are: tests/ verbatim (also into the build context when the image copies
  // it), the main build context flat into environment/, everything else under environment/.
  const handled = new Set(['task.yaml', 'solution.sh', 'solution.yaml', 'run-tests.sh', 'docker-compose.yaml', 'docker-compose.yml']);
  const copiesTests = dockerfileCopies(dockerfileText, 'tests');
  for (const file of source.files) {
    if (handled.has(file) || file === dockerfilePath) continue;
    if (file.startsWith('tests/')) {
      put({ path: file, from: file, executable: source.executable(file) });
      if (copiesTests) put({ path: `environment/${file}`, from: file, executable: source.executable(file) });
    } else if (contextPrefix && file.startsWith(contextPrefix)) {
      put({ path: `environment/${file.slice(contextPrefix.length)}`, from: file, executable: source.executable(file) });
    } else {
      put({ path: `environment/${file}`, from: file, executable: source.executable(file) });
    }
  }
  if (copiesTests) changed('tests/ also copied to environment/tests/ because the Dockerfile copies it into the image');
  if (contextPrefix) changed(`the build context ${compose.context}/ was copied flat into environment/`);
  return { ok: true, files, notes };
}
