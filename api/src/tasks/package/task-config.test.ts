import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTaskToml, parseSizeMb } from './task-config.js';
import { codes, Scratch, TASK_TOML, taskFiles, under, without } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

const check = (toml: string) => checkTaskToml(Buffer.from(toml), 'fix-git/task.toml');
const messagesOf = (toml: string) => check(toml).errors.map((e) => e.message);
/** TASK_TOML with `[environment]` keys replaced. */
const withEnvironment = (lines: string) => TASK_TOML.replace(/\[environment\][\s\S]*$/, `[environment]\n${lines}\n`);

describe('task.toml', () => {
  it('accepts the TB2 shape and maps it to TaskConfig', () => {
    const result = check(TASK_TOML);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.config).toEqual({
      name: null,
      description: null,
      difficulty: 'EASY',
      category: 'software-engineering',
      tags: ['coding', 'version-control'],
      agentTimeoutSec: 900,
      verifierTimeoutSec: 900,
      buildTimeoutSec: 600,
      cpus: 1,
      memoryMb: 2048,
      storageMb: 10240,
      dockerImage: 'alexgshaw/fix-git:20251031',
      os: 'linux',
      gpus: null,
      gpuTypes: null,
      steps: null,
      multiStepRewardStrategy: null,
      separateVerifier: false,
      raw: expect.objectContaining({ version: '1.0', environment: expect.objectContaining({ memory: '2G' }) }),
    });
  });

  it('reports a syntax error with its line and column', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'task.toml': 'version = "1.0"\n\n[agent]\ntimeout_sec = \n' })));
    const errors = archive.tasks[0]!.errors;
    expect(codes(errors)).toEqual(['task_toml_invalid']);
    expect(errors[0]!.message).toMatch(/^task\.toml: syntax error at line 4, column \d+: /);
    expect(errors[0]!.path).toBe('fix-git/task.toml');
  });

  it('rejects task.toml that is not UTF-8', () => {
    expect(checkTaskToml(Buffer.from([0x61, 0x3d, 0x22, 0xff, 0x22]), 't').errors.map((e) => e.message)).toEqual([
      'task.toml: the file is not valid UTF-8',
    ]);
  });

  it('rejects a bad timeout, naming the key and the value', () => {
    expect(messagesOf(TASK_TOML.replace('[agent]\ntimeout_sec = 900.0', '[agent]\ntimeout_sec = "abc"'))).toEqual([
      'task.toml: [agent].timeout_sec must be a positive number (got "abc")',
    ]);
    expect(messagesOf(TASK_TOML.replace('[verifier]\ntimeout_sec = 900.0', '[verifier]\ntimeout_sec = 0'))).toEqual([
      'task.toml: [verifier].timeout_sec must be a positive number (got 0)',
    ]);
    expect(check(TASK_TOML.replace('[agent]\ntimeout_sec = 900.0', '[agent]\ntimeout_sec = 1200')).config!.agentTimeoutSec).toBe(1200);
  });

  it('rejects a non-string memory', () => {
    expect(messagesOf(withEnvironment('memory = 2048'))).toEqual([
      'task.toml: [environment].memory must be a size string such as "2G", "512M" or "1.5G" (got 2048)',
    ]);
  });

  it('rejects memory and memory_mb that disagree, accepts them when they agree', () => {
    expect(messagesOf(withEnvironment('memory = "2G"\nmemory_mb = 4096'))).toEqual([
      'task.toml: [environment].memory ("2G" = 2048 MB) and [environment].memory_mb (4096) disagree',
    ]);
    const agreeing = check(withEnvironment('memory = "4G"\nmemory_mb = 4096\nstorage_mb = 10240'));
    expect(agreeing.errors).toEqual([]);
    expect(agreeing.config).toMatchObject({ memoryMb: 4096, storageMb: 10240, dockerImage: null });
  });

  it('parses size strings like Harbor', () => {
    expect([parseSizeMb('2G'), parseSizeMb('1.5g'), parseSizeMb('512M'), parseSizeMb('2048k'), parseSizeMb('1000K')]).toEqual([
      2048, 1536, 512, 2, 0,
    ]);
    expect([parseSizeMb('2GB'), parseSizeMb('2'), parseSizeMb(' 2G'), parseSizeMb('G')]).toEqual([null, null, null, null]);
    expect(messagesOf(withEnvironment('storage = "10T"'))).toEqual([
      'task.toml: [environment].storage must be a size string such as "2G", "512M" or "1.5G" (got "10T")',
    ]);
  });

  it('rejects a bad [task].name and a [task] table without name', () => {
    expect(messagesOf('[task]\nname = "../etc"\n')).toEqual([
      `task.toml: [task].name must look like "org/name" using letters, digits, '-', '_' or '.', without a leading dot or '..' (got "../etc")`,
    ]);
    expect(check('[task]\nname = "a/b/c"\n').errors).toHaveLength(1);
    expect(check('[task]\nname = ".hidden"\n').errors).toHaveLength(1);
    expect(check('[task]\nname = "org/x..y"\n').errors).toHaveLength(1);
    expect(messagesOf('[task]\ndescription = "x"\n')).toEqual(['task.toml: [task].name is required when the [task] table is present']);
    expect(check('[task]\nname = "terminal-bench/regex_chess.v2"\n').errors).toEqual([]);
  });

  it('checks the remaining typed fields and collects every problem', () => {
    const toml = [
      'version = 1',
      'schema_version = "1.1"',
      '[metadata]',
      'tags = ["a", 2]',
      'expert_time_estimate_min = "five"',
      'difficulty = "Extreme"',
      '[environment]',
      'cpus = 1.5',
      'docker_image = ""',
      'os = "macos"',
      'build_timeout_sec = -1',
    ].join('\n');
    expect(messagesOf(toml)).toEqual([
      'task.toml: version must be a string (got 1)',
      'task.toml: [metadata].tags must be a list of strings (got ["a",2])',
      'task.toml: [metadata].expert_time_estimate_min must be a number (got "five")',
      'task.toml: [environment].build_timeout_sec must be a positive number (got -1)',
      'task.toml: [environment].cpus must be a positive integer (got 1.5)',
      'task.toml: [environment].docker_image must be a non-empty string (got "")',
      'task.toml: [environment].os must be "linux" or "windows" (got "macos")',
    ]);
    expect(check(toml).config!.difficulty).toBe('UNKNOWN');
  });

  it('maps difficulty case-insensitively and os case-insensitively', () => {
    expect(check('[metadata]\ndifficulty = "Hard"\n').config!.difficulty).toBe('HARD');
    expect(check('[metadata]\ndifficulty = 3\n').config!.difficulty).toBe('UNKNOWN');
    expect(check('[environment]\nos = "Windows"\n').config!.os).toBe('windows');
  });

  it('warns about unknown top-level keys', () => {
    const result = check(`${TASK_TOML}\n[extras]\nfoo = 1\n`.replace('version = "1.0"', 'version = "1.0"\nfavourite_colour = "blue"'));
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => [w.code, w.message])).toEqual([
      ['unknown_toml_key', 'task.toml: unknown key "favourite_colour" is ignored'],
      ['unknown_toml_key', 'task.toml: unknown key "extras" is ignored'],
    ]);
  });

  it('reads [[steps]] with per-step timeouts, network policy and min_reward (schema 1.4)', () => {
    const result = check(
      [
        'schema_version = "1.4"',
        'multi_step_reward_strategy = "final"',
        '[[steps]]',
        'name = "scaffold"',
        'min_reward = 1.0',
        '[steps.agent]',
        'timeout_sec = 60.0',
        'network_mode = "no-network"',
        '[steps.verifier]',
        'timeout_sec = 30.0',
        '[[steps]]',
        'name = "implement"',
        'min_reward = { tests = 0.5 }',
        '[steps.agent]',
        'allowed_hosts = ["pypi.org", "files.pythonhosted.org"]',
        '',
      ].join('\n'),
    );
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.config!.multiStepRewardStrategy).toBe('final');
    expect(result.config!.steps).toEqual([
      {
        name: 'scaffold',
        agentTimeoutSec: 60,
        verifierTimeoutSec: 30,
        agentNetwork: { mode: 'no-network', allowedHosts: [] },
        verifierNetwork: null,
        minReward: 1,
        separateVerifier: null,
      },
      {
        name: 'implement',
        agentTimeoutSec: null,
        verifierTimeoutSec: null,
        // Hosts without a mode mean an allowlist, as in Harbor.
        agentNetwork: { mode: 'allowlist', allowedHosts: ['pypi.org', 'files.pythonhosted.org'] },
        verifierNetwork: null,
        minReward: { tests: 0.5 },
        separateVerifier: null,
      },
    ]);
  });

  it('defaults multi_step_reward_strategy to mean for multi-step tasks and ignores it otherwise', () => {
    expect(check('[[steps]]\nname = "one"\n').config!.multiStepRewardStrategy).toBe('mean');
    const single = check('multi_step_reward_strategy = "mean"\n');
    expect(single.config!.multiStepRewardStrategy).toBeNull();
    expect(codes(single.warnings)).toEqual(['ignored_toml_key']);
  });

  it('rejects bad steps with every reason', () => {
    expect(
      messagesOf(
        [
          'multi_step_reward_strategy = "sum"',
          '[[steps]]',
          'name = "../escape"',
          '[[steps]]',
          'name = "a"',
          'min_reward = "high"',
          '[steps.agent]',
          'timeout_sec = -5',
          'network_mode = "public"',
          'allowed_hosts = ["https://pypi.org/simple"]',
          '[steps.verifier]',
          'environment_mode = "sideways"',
          '[[steps]]',
          'name = "a"',
          '[[steps]]',
          'title = "no name"',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      'task.toml: multi_step_reward_strategy must be "mean" or "final" (got "sum")',
      "task.toml: [[steps]] \"../escape\": the step name becomes the folder steps/<name>/; use 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit and without '..'",
      'task.toml: [[steps]] "a".agent.timeout_sec must be a positive number (got -5)',
      'task.toml: [[steps]] "a".agent.allowed_hosts entries must be bare host names, not URLs, ports or paths (got "https://pypi.org/simple")',
      'task.toml: [[steps]] "a".agent.allowed_hosts is only valid with network_mode = "allowlist" (got "public")',
      'task.toml: [[steps]] "a".min_reward must be a number or a table of numbers per reward key (got "high")',
      'task.toml: [[steps]] "a".verifier.environment_mode must be "shared" or "separate" (got "sideways")',
      'task.toml: [[steps]] #4 needs a string name (got undefined)',
      'task.toml: [[steps]] "a" appears twice; step names must be unique',
    ]);
  });

  it('accepts schema versions up to 1.4 quietly and warns about newer ones', () => {
    expect(check('schema_version = "1.4"\n').warnings).toEqual([]);
    expect(check('schema_version = "1.3"\n').warnings).toEqual([]);
    const newer = check('schema_version = "1.10"\n');
    expect(newer.errors).toEqual([]);
    expect(newer.warnings.map((w) => [w.code, w.message])).toEqual([
      [
        'newer_schema_version',
        'task.toml: schema_version "1.10" is newer than 1.4, the newest this platform knows; keys it does not know are ignored, as Harbor does',
      ],
    ]);
  });

  it('reads Windows and GPU tasks and keeps [environment] as parsed in raw', () => {
    const result = check('[environment]\nos = "windows"\ngpus = 2\ngpu_types = ["H100", "A100"]\n');
    expect(result.errors).toEqual([]);
    expect(result.config).toMatchObject({ os: 'windows', gpus: 2, gpuTypes: ['H100', 'A100'] });
    expect(result.config!.raw).toEqual({ environment: { os: 'windows', gpus: 2, gpu_types: ['H100', 'A100'] } });
    expect(messagesOf('[environment]\ngpus = 1.5\ngpu_types = "H100"\n')).toEqual([
      'task.toml: [environment].gpus must be a whole number of GPUs, 0 or more (got 1.5)',
      'task.toml: [environment].gpu_types must be a list of GPU type names such as ["H100", "A100"] (got "H100")',
    ]);
  });

  it('keeps raw JSON-safe: dates as ISO strings, inf as a string', () => {
    const raw = check('when = 1979-05-27T07:32:00Z\nday = 1979-05-27\n[metadata]\nlimit = inf\n').config!.raw;
    expect(raw).toEqual({ when: '1979-05-27T07:32:00.000Z', day: '1979-05-27', metadata: { limit: 'Infinity' } });
    expect(JSON.parse(JSON.stringify(raw))).toEqual(raw);
  });
});

describe('required files and names', () => {
  it('lists every missing required file with its path', async () => {
    const files = without(taskFiles({ 'task.toml': TASK_TOML.replace(/docker_image = .*\n/, '') }), 'instruction.md', 'tests/test.sh', 'environment/Dockerfile');
    const archive = await scratch.extract(under('fix-git', files));
    const errors = archive.tasks[0]!.errors;
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['missing_required_file', 'fix-git/instruction.md'],
      ['missing_required_file', 'fix-git/tests/test.sh'],
      ['missing_required_file', 'fix-git/environment/Dockerfile'],
    ]);
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });

  it('accepts docker-compose.yaml instead of a Dockerfile, and wants test.bat for windows tasks', async () => {
    const toml = TASK_TOML.replace(/docker_image = .*\n/, 'os = "windows"\n');
    const files = without(taskFiles({ 'task.toml': toml, 'environment/docker-compose.yaml': 'services: {}\n' }), 'environment/Dockerfile');
    const archive = await scratch.extract(under('win-task', files));
    expect(archive.tasks[0]!.errors.map((e) => [e.code, e.path])).toEqual([['missing_required_file', 'win-task/tests/test.bat']]);
  });

  it('rejects an empty or non-UTF-8 instruction.md as instruction_invalid', async () => {
    const blank = await scratch.extract(under('fix-git', taskFiles({ 'instruction.md': ' \n\t\n' })));
    expect(codes(blank.tasks[0]!.errors)).toEqual(['instruction_invalid']);
    const binary = await scratch.extract(under('fix-git', taskFiles({ 'instruction.md': Buffer.from([0x48, 0x69, 0xff, 0xfe]) })));
    expect(codes(binary.tasks[0]!.errors)).toEqual(['instruction_invalid']);
  });

  it('strips a BOM from the returned instruction only', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'instruction.md': '\uFEFFDo it.\r\n' })));
    expect(archive.tasks[0]!.instruction).toBe('Do it.\r\n');
    expect(archive.tasks[0]!.files!.find((f) => f.path === 'instruction.md')!.size).toBe(11);
  });

  it('rejects an invalid task name from a folder, a zip name or [task].name as task_toml_invalid', async () => {
    const folder = await scratch.extract(under('my task', taskFiles()));
    expect(folder.tasks[0]!.errors.map((e) => [e.code, e.message])).toEqual([
      ['task_toml_invalid', expect.stringContaining('the task name "my task" (from the folder name) is invalid')],
    ]);
    const zipName = await scratch.extract(taskFiles(), 'my task (1).zip');
    expect(zipName.tasks[0]!.errors[0]!.message).toContain('(from the zip file name)');
    const tomlName = await scratch.extract(taskFiles({ 'task.toml': `[task]\nname = "org/-x"\n${TASK_TOML}` }), 'ok.zip');
    expect(tomlName.tasks[0]!.name).toBe('-x');
    expect(tomlName.tasks[0]!.errors.map((e) => e.message)).toEqual([expect.stringContaining('(from [task].name)')]);
  });

  it('reports every problem of a task at once', async () => {
    const toml = TASK_TOML.replace('memory = "2G"', 'memory = 2048').replace('cpus = 1', 'cpus = 0');
    const archive = await scratch.extract(under('fix-git', without(taskFiles({ 'task.toml': toml, 'instruction.md': '' }), 'tests/test.sh')));
    expect(codes(archive.tasks[0]!.errors)).toEqual(['task_toml_invalid', 'task_toml_invalid', 'missing_required_file', 'instruction_invalid']);
  });
});
