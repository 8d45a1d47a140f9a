// TB1 tasks through the package reader: converted into a TB2 folder whose hash is of the converted
// files, the original entries zipped beside it, and every reason listed when it cannot be converted.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { composeTask, dockerfileTask, solutionYamlTask } from '../tb1/fixtures.js';
import { extractArchive, ORIGINAL_ZIP } from './index.js';
import { contentHash } from './task-checks.js';
import { rawZip, Scratch, taskFiles, under, yazlZip, type YazlEntry } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

/** Entry names and exec bits of a zip. */
function listZip(file: string): Promise<Array<{ name: string; mode: number }>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (error, zip) => {
      if (error) return reject(error);
      const names: Array<{ name: string; mode: number }> = [];
      zip.on('entry', (e: yauzl.Entry) => names.push({ name: e.fileName, mode: (e.externalFileAttributes >>> 16) & 0o777 }));
      zip.on('end', () => resolve(names.sort((a, b) => a.name.localeCompare(b.name))));
      zip.on('error', reject);
    });
  });
}

function entries(prefix: string, files: Record<string, string>): YazlEntry[] {
  return Object.entries(files).map(([name, data]) => ({ name: `${prefix}/${name}`, data, mode: name.endsWith('.sh') ? 0o100755 : 0o100644 }));
}

describe('TB1 tasks in an upload', () => {
  it('converts a Dockerfile-only task and keeps the original entries for download', async () => {
    const zip = await yazlZip(scratch.file('hello.zip'), entries('hello-world', dockerfileTask()));
    const archive = await extractArchive(zip, { fileName: 'hello.zip', workDir: await scratch.workDir() });
    expect(archive.errors).toEqual([]);
    const task = archive.tasks[0]!;
    expect(task.errors).toEqual([]);
    expect(task.name).toBe('hello-world');
    expect(task.conversion?.from).toBe('TB1');
    expect(task.files!.map((f) => [f.path, f.executable])).toEqual([
      ['environment/Dockerfile', false],
      ['instruction.md', false],
      ['solution/solve.sh', true],
      ['task.toml', false],
      ['tests/run-tests.sh', true],
      ['tests/test.sh', true],
      ['tests/test_outputs.py', false],
    ]);
    expect(task.config).toMatchObject({ agentTimeoutSec: 360, verifierTimeoutSec: 60, difficulty: 'EASY', category: 'file-operations', dockerImage: null });
    expect(await readFile(path.join(task.dir!, 'environment/Dockerfile'), 'utf8')).toMatch(/^FROM ubuntu:24\.04\nWORKDIR \/app\n[\s\S]*ENV TEST_DIR=\/tests\n$/);
    // The hash is of the converted files, computed from their bytes on disk.
    const hashed = await Promise.all(
      task.files!.map(async (f) => {
        const bytes = await readFile(path.join(task.dir!, f.path));
        return { path: f.path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
      }),
    );
    expect(task.contentHash).toBe(contentHash('hello-world', hashed));
    // The original, beside the task folder (which moves into the store whole), as it was uploaded.
    expect((await readdir(path.dirname(task.dir!))).sort()).toEqual(['.original.zip', 'hello-world']);
    expect(await listZip(path.join(path.dirname(task.dir!), ORIGINAL_ZIP))).toEqual([
      { name: 'Dockerfile', mode: 0o644 },
      { name: 'run-tests.sh', mode: 0o755 },
      { name: 'solution.sh', mode: 0o755 },
      { name: 'task.yaml', mode: 0o644 },
      { name: 'tests/test_outputs.py', mode: 0o644 },
    ]);
  });

  it('converts a compose task into a compose environment', async () => {
    const archive = await scratch.extract(under('db-connect', composeTask()));
    const task = archive.tasks[0]!;
    expect(task.errors).toEqual([]);
    expect(task.files!.map((f) => f.path)).toEqual(
      expect.arrayContaining(['environment/Dockerfile', 'environment/docker-compose.yaml', 'environment/app/main.py', 'tests/test.sh']),
    );
    // The compose file passed the same host-access checks as any uploaded one.
    expect(task.warnings.filter((w) => w.code === 'host_access')).toEqual([]);
    expect(task.conversion!.notes.some((n) => n.kind === 'warning' && n.message.startsWith('multi-container task'))).toBe(true);
  });

  it('rejects a task with solution.yaml, naming the reason, next to a TB2 task that is stored', async () => {
    const archive = await scratch.extract({ ...under('keys-task', solutionYamlTask()), ...under('fix-git', taskFiles()) });
    expect(archive.errors).toEqual([]);
    const [fix, keys] = archive.tasks;
    expect(fix).toMatchObject({ name: 'fix-git', errors: [] });
    expect(keys!.errors).toEqual([
      {
        code: 'tb1_not_convertible',
        message:
          "Terminal-Bench 1 task cannot be converted automatically: solution.yaml (tmux keystrokes) cannot be converted automatically (Harbor's mapper refuses it too); write solution.sh",
        path: 'keys-task/solution.yaml',
      },
    ]);
  });

  it('names files-at-root TB1 tasks after the zip', async () => {
    const archive = await scratch.extract(rawZip(Object.entries(dockerfileTask()).map(([name, data]) => ({ name, data }))), 'say-hello.zip');
    expect(archive.tasks).toMatchObject([{ name: 'say-hello', rootPath: '', errors: [] }]);
  });
});
