import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, raw, rawZip, Scratch, TASK_TOML, taskFiles, under, without } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

const NAMED_TOML = `schema_version = "1.1"\n\n[task]\nname = "terminal-bench/regex-chess"\ndescription = "Chess by regex"\n\n${TASK_TOML.replace('version = "1.0"\n', '')}`;

describe('accepted layouts', () => {
  it('accepts a folder at the root', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles()), 'bundle.zip');
    expect(archive.errors).toEqual([]);
    expect(archive.warnings).toEqual([]);
    expect(archive.tasks).toHaveLength(1);
    const task = archive.tasks[0]!;
    expect(task).toMatchObject({ name: 'fix-git', errors: [], warnings: [] });
    expect(task.rootPath).toBe('fix-git');
    expect(path.basename(task.dir!)).toBe('fix-git');
    expect(task.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(task.files!.map((f) => f.path)).toEqual([
      'environment/Dockerfile',
      'instruction.md',
      'solution/solve.sh',
      'task.toml',
      'tests/test.sh',
      'tests/test_outputs.py',
    ]);
    expect(task.sizeBytes).toBe(task.files!.reduce((sum, f) => sum + f.size, 0));
    expect(task.instruction).toBe('Fix the git repository in /app.\n');
    expect(task.config).toMatchObject({
      name: null,
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
    });
    expect(await readFile(path.join(task.dir!, 'task.toml'), 'utf8')).toBe(TASK_TOML);
    expect((await readdir(path.dirname(task.dir!))).sort()).toEqual(['fix-git']);
  });

  it('names files at the root after the zip file', async () => {
    const archive = await scratch.extract(taskFiles(), 'fix-git.zip');
    expect(archive.errors).toEqual([]);
    expect(archive.tasks).toMatchObject([{ name: 'fix-git', rootPath: '', errors: [] }]);
    expect(path.basename(archive.tasks[0]!.dir!)).toBe('fix-git');
  });

  it('names files at the root after [task].name', async () => {
    const archive = await scratch.extract(taskFiles({ 'task.toml': NAMED_TOML }), 'Upload (1).zip');
    expect(archive.errors).toEqual([]);
    const task = archive.tasks[0]!;
    expect(task).toMatchObject({ name: 'regex-chess', rootPath: '', errors: [] });
    expect(task.config).toMatchObject({ name: 'terminal-bench/regex-chess', description: 'Chess by regex' });
  });

  it('accepts several tasks, each named after its folder', async () => {
    const archive = await scratch.extract({ ...under('fix-git', taskFiles()), ...under('regex-log', taskFiles()) });
    expect(archive.errors).toEqual([]);
    expect(archive.tasks.map((t) => [t.name, t.rootPath, t.errors.length])).toEqual([
      ['fix-git', 'fix-git', 0],
      ['regex-log', 'regex-log', 0],
    ]);
    expect(archive.tasks[0]!.dir).not.toBe(archive.tasks[1]!.dir);
  });

  it('accepts a wrapper folder and warns about files outside the tasks', async () => {
    const archive = await scratch.extract({
      'terminal-bench-2-main/README.md': '# bundle\n',
      'terminal-bench-2-main/LICENSE': 'MIT\n',
      ...under('terminal-bench-2-main/fix-git', taskFiles()),
    });
    expect(archive.errors).toEqual([]);
    expect(codes(archive.warnings)).toEqual(['outside_task']);
    expect(archive.warnings[0]!.message).toContain('terminal-bench-2-main/README.md');
    expect(archive.tasks).toMatchObject([{ name: 'fix-git', rootPath: 'terminal-bench-2-main/fix-git', errors: [] }]);
    expect(await readdir(archive.tasks[0]!.dir!)).not.toContain('README.md');
  });

  it('drops macOS and Windows debris silently', async () => {
    const files = taskFiles();
    const archive = await scratch.extract({
      ...under('fix-git', files),
      '__MACOSX/fix-git/._task.toml': 'junk',
      'fix-git/.DS_Store': 'junk',
      'fix-git/environment/._Dockerfile': 'junk',
      'fix-git/tests/Thumbs.db': 'junk',
      'fix-git/desktop.ini': 'junk',
    });
    expect(archive.errors).toEqual([]);
    expect(archive.warnings).toEqual([]);
    expect(archive.tasks[0]!.files).toHaveLength(6);
    const clean = await scratch.extract(under('fix-git', files));
    expect(archive.tasks[0]!.contentHash).toBe(clean.tasks[0]!.contentHash);
  });

  it('accepts backslash separators with one warning', async () => {
    const zip = rawZip(raw(under('fix-git', taskFiles())).map((e) => ({ ...e, name: (e.name as string).replaceAll('/', '\\') })));
    const archive = await scratch.extract(zip);
    expect(archive.errors).toEqual([]);
    expect(codes(archive.warnings)).toEqual(['backslash_separators']);
    expect(archive.tasks).toMatchObject([{ name: 'fix-git', errors: [] }]);
    expect((await stat(path.join(archive.tasks[0]!.dir!, 'environment', 'Dockerfile'))).isFile()).toBe(true);
  });

  it('strips a leading ./ and keeps explicit empty folders and dotfiles', async () => {
    const zip = rawZip([
      ...raw(under('./fix-git', taskFiles())),
      { name: './fix-git/data/', method: 0 },
      { name: 'fix-git/environment/.gitignore', data: '*.iso\n' },
    ]);
    const archive = await scratch.extract(zip);
    expect(archive.errors).toEqual([]);
    const task = archive.tasks[0]!;
    expect(task.errors).toEqual([]);
    expect((await stat(path.join(task.dir!, 'data'))).isDirectory()).toBe(true);
    expect(await readFile(path.join(task.dir!, 'environment/.gitignore'), 'utf8')).toBe('*.iso\n');
    expect(task.files!.map((f) => f.path)).toContain('environment/.gitignore');
  });

  it('keeps task.yaml beside task.toml with a warning', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'task.yaml': 'instruction: x\n' })));
    expect(archive.tasks[0]).toMatchObject({ errors: [], warnings: [{ code: 'task_yaml_ignored', path: 'fix-git/task.yaml' }] });
    expect(archive.tasks[0]!.files!.map((f) => f.path)).toContain('task.yaml');
  });

  it('warns when tests/test_outputs.py or solution/solve.sh is missing', async () => {
    const archive = await scratch.extract(under('fix-git', without(taskFiles(), 'tests/test_outputs.py', 'solution/solve.sh')));
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.warnings.map((w) => [w.code, w.path])).toEqual([
      ['missing_test_outputs', 'fix-git/tests/test_outputs.py'],
      ['missing_solution', 'fix-git/solution/solve.sh'],
    ]);
  });

  it('creates environment/ when docker_image is set and the zip has none', async () => {
    const archive = await scratch.extract(under('fix-git', without(taskFiles(), 'environment/Dockerfile')));
    const task = archive.tasks[0]!;
    expect(task.errors).toEqual([]);
    expect((await stat(path.join(task.dir!, 'environment'))).isDirectory()).toBe(true);
    expect(await readdir(path.join(task.dir!, 'environment'))).toEqual([]);
  });
});

describe('layout rejections', () => {
  it('treats a folder with task.yaml and no task.toml as a TB1 task to convert (rejected here with its reasons)', async () => {
    const archive = await scratch.extract({
      'old-task/task.yaml': 'instruction: do it\n',
      'old-task/Dockerfile': 'FROM ubuntu\n',
      'old-task/run-tests.sh': 'bash $TEST_DIR/run-uv-pytest.sh\n',
    });
    expect(archive.errors).toEqual([]);
    expect(archive.tasks).toMatchObject([{ name: 'old-task', rootPath: 'old-task' }]);
    expect(archive.tasks[0]!.errors.map((e) => [e.code, e.path])).toEqual([['tb1_not_convertible', 'old-task/run-tests.sh']]);
    expect(archive.tasks[0]!.errors[0]!.message).toContain('Terminal-Bench 1 task cannot be converted automatically: run-tests.sh reads $TEST_DIR/run-uv-pytest.sh');
  });

  it('rejects a root-level TB1 Dockerfile without task.yaml as tb1_not_convertible', async () => {
    const archive = await scratch.extract({ Dockerfile: 'FROM ubuntu\n', 'tests/test_outputs.py': '' });
    expect(codes(archive.errors)).toEqual(['tb1_not_convertible']);
    expect(archive.errors[0]!.message).toContain('but no task.yaml');
  });

  it('rejects an archive without task.toml as no_task_found', async () => {
    const archive = await scratch.extract({ 'notes/readme.md': 'hello\n', 'notes/src/x/Dockerfile': 'FROM x\n' });
    expect(codes(archive.errors)).toEqual(['no_task_found']);
    expect(archive.tasks).toEqual([]);
  });

  it('rejects a root inside another root as ambiguous_layout', async () => {
    const archive = await scratch.extract({ ...taskFiles(), ...under('sub-task', taskFiles()) }, 'outer.zip');
    expect(codes(archive.errors)).toEqual(['ambiguous_layout']);
    expect(archive.tasks.map((t) => t.rootPath)).toEqual(['', 'sub-task']);
    expect(archive.tasks.every((t) => t.dir === undefined)).toBe(true);
  });

  it('rejects two roots with the same task name as duplicate_task_name', async () => {
    const archive = await scratch.extract({ ...under('a/fix-git', taskFiles()), ...under('b/fix-git', taskFiles()) });
    expect(codes(archive.errors)).toEqual(['duplicate_task_name']);
    expect(archive.tasks.map((t) => t.name)).toEqual(['fix-git', 'fix-git']);
    expect(archive.tasks.every((t) => t.dir === undefined && t.errors.length === 0)).toBe(true);
  });
});
