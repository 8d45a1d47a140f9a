import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPackageLimits, extractArchive, type PackageLimits } from './index.js';
import { codes, raw, rawZip, Scratch, taskFiles, under, yazlZip, type YazlEntry } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

const MiB = 1024 * 1024;
const limits = (overrides: Partial<PackageLimits>): PackageLimits => ({ ...defaultPackageLimits, ...overrides });

/** `size` zero bytes, streamed in 1 MiB chunks so neither yazl nor the test holds them in memory. */
function zeros(size: number): Readable {
  const chunk = Buffer.alloc(MiB);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

async function zipWithZeros(size: number, extraTasks: string[] = []): Promise<string> {
  const entries: YazlEntry[] = [
    ...Object.entries(under('fix-git', taskFiles())).map(([name, data]) => ({ name, data })),
    { name: 'fix-git/environment/zeros.bin', stream: zeros(size) },
    ...extraTasks.flatMap((t) => Object.entries(under(t, taskFiles())).map(([name, data]) => ({ name, data }))),
  ];
  return yazlZip(scratch.file('zeros.zip'), entries);
}

describe('bytes, modes and hashes', () => {
  it('keeps CRLF text and binary bytes exactly', async () => {
    const binary = randomBytes(64 * 1024);
    const crlf = Buffer.from('@prefix ex: <http://example.org/> .\r\nex:a ex:b "c" .\r\n\uFEFFtrailing\r\n');
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'environment/data.ttl': crlf, 'tests/model.pt': binary })));
    const dir = archive.tasks[0]!.dir!;
    expect((await readFile(path.join(dir, 'environment/data.ttl'))).equals(crlf)).toBe(true);
    expect((await readFile(path.join(dir, 'tests/model.pt'))).equals(binary)).toBe(true);
  });

  it('applies 0755 to entries with an exec bit and 0644 otherwise, never setuid', async () => {
    const file = await yazlZip(scratch.file('modes.zip'), [
      ...Object.entries(under('fix-git', taskFiles())).map(([name, data]) => ({ name, data, mode: 0o100600 })),
      { name: 'fix-git/solution/run.sh', data: '#!/bin/sh\n', mode: 0o104750 },
      { name: 'fix-git/tests/helper.sh', data: '#!/bin/sh\n', mode: 0o100744 },
    ]);
    const archive = await extractArchive(file, { fileName: 'modes.zip', workDir: await scratch.workDir() });
    const task = archive.tasks[0]!;
    const mode = async (rel: string) => (await stat(path.join(task.dir!, rel))).mode & 0o7777;
    expect(await mode('solution/run.sh')).toBe(0o755);
    expect(await mode('tests/helper.sh')).toBe(0o755);
    expect(await mode('tests/test.sh')).toBe(0o644);
    expect(task.files!.filter((f) => f.executable).map((f) => f.path)).toEqual(['solution/run.sh', 'tests/helper.sh']);
    // No Unix mode recorded (e.g. a Windows zip): plain files.
    const windows = await scratch.extract(rawZip(raw(under('fix-git', taskFiles()))));
    expect((await stat(path.join(windows.tasks[0]!.dir!, 'tests/test.sh'))).mode & 0o7777).toBe(0o644);
  });

  it('gives the same task zipped two different ways the same content hash', async () => {
    const files = taskFiles({ 'environment/data.bin': randomBytes(4096) });
    const a = await scratch.extract(under('fix-git', files), 'bundle.zip');
    // Files at the root, stored instead of deflated, reverse order, other modes, folder entries, debris.
    const reversed = raw(files, { method: 0, mode: 0o100755 }).reverse();
    const b = await scratch.extract(
      rawZip([{ name: 'tests/', method: 0, mode: 0o40755 }, ...reversed, { name: '.DS_Store', data: 'junk' }]),
      'fix-git.zip',
    );
    expect(a.tasks[0]!.errors).toEqual([]);
    expect(b.tasks[0]!.errors).toEqual([]);
    expect(b.tasks[0]!.contentHash).toBe(a.tasks[0]!.contentHash);

    const changed = { ...files, 'instruction.md': 'Fix the git repository in /app!\n' };
    const c = await scratch.extract(under('fix-git', changed));
    expect(c.tasks[0]!.contentHash).not.toBe(a.tasks[0]!.contentHash);
    const renamed = await scratch.extract(under('fix-git-2', files));
    expect(renamed.tasks[0]!.contentHash).not.toBe(a.tasks[0]!.contentHash);
  });

  it('reads Zip64 archives', async () => {
    const file = await yazlZip(scratch.file('zip64.zip'), under('fix-git', taskFiles()), { zip64: true });
    const archive = await extractArchive(file, { fileName: 'zip64.zip', workDir: await scratch.workDir() });
    expect(archive.errors).toEqual([]);
    expect(archive.tasks[0]!.errors).toEqual([]);
  });
});

describe('caps', () => {
  it('rejects a file over maxFileBytes as file_too_large, leaving other tasks alone', async () => {
    const file = await zipWithZeros(20 * MiB, ['regex-log']);
    const archive = await extractArchive(file, {
      fileName: 'zeros.zip',
      workDir: await scratch.workDir(),
      limits: limits({ maxFileBytes: MiB }),
    });
    expect(archive.errors).toEqual([]);
    const [big, other] = archive.tasks;
    expect(big!.errors).toEqual([
      {
        code: 'file_too_large',
        message: expect.stringMatching(/^file "fix-git\/environment\/zeros.bin" is too large: its size so far is \d+ bytes, over the 1 MiB limit per file$/),
        path: 'fix-git/environment/zeros.bin',
      },
    ]);
    expect(other).toMatchObject({ name: 'regex-log', errors: [] });
    expect(archive.uncompressedBytes).toBeLessThan(2 * MiB);
  });

  it('rejects a task over maxTaskBytes as task_too_large', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'data/a.bin': randomBytes(3000) })), 'x.zip', {
      limits: limits({ maxTaskBytes: 2000 }),
    });
    expect(archive.tasks[0]!.errors).toEqual([
      { code: 'task_too_large', message: expect.stringContaining('task "fix-git" is too large'), path: 'fix-git' },
    ]);
  });

  it('rejects an entry expanding over maxRatio as zip_bomb (default limits)', async () => {
    const file = await zipWithZeros(20 * MiB);
    const archive = await extractArchive(file, { fileName: 'zeros.zip', workDir: await scratch.workDir() });
    expect(codes(archive.errors)).toEqual(['zip_bomb']);
    expect(archive.errors[0]!.message).toContain('expands more than 200:1');
    expect(archive.uncompressedBytes).toBeLessThan(9 * MiB);
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });

  it('rejects an archive over maxArchiveBytes as zip_bomb', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles({ 'data/a.bin': randomBytes(3000) })), 'x.zip', {
      limits: limits({ maxArchiveBytes: 2048 }),
    });
    expect(archive.errors).toEqual([{ code: 'zip_bomb', message: 'the archive expands beyond the 2 KiB limit', path: null }]);
  });

  it('takes every streamed byte from the request budget and stops when it runs out', async () => {
    const budget = { remainingBytes: 1_000_000 };
    const ok = await scratch.extract(under('fix-git', taskFiles()), 'a.zip', { budget });
    expect(ok.tasks[0]!.errors).toEqual([]);
    expect(budget.remainingBytes).toBe(1_000_000 - ok.uncompressedBytes);
    expect(ok.uncompressedBytes).toBe(ok.tasks[0]!.sizeBytes);

    budget.remainingBytes = 100;
    const over = await scratch.extract(under('fix-git', taskFiles()), 'b.zip', { budget });
    expect(codes(over.errors)).toEqual(['zip_bomb']);
    expect(over.errors[0]!.message).toContain('per request');
    expect(budget.remainingBytes).toBeLessThan(0);
  });

  it('rejects more than maxEntries entries as zip_bomb before reading anything', async () => {
    const archive = await scratch.extract(under('fix-git', taskFiles()), 'x.zip', { limits: limits({ maxEntries: 5 }) });
    expect(codes(archive.errors)).toEqual(['zip_bomb']);
    expect(archive.tasks).toEqual([]);
    expect(archive.uncompressedBytes).toBe(0);
  });

  it('streams a 300 MiB entry with bounded memory and stops near maxArchiveBytes', async () => {
    const file = await zipWithZeros(300 * MiB);
    expect((await stat(file)).size).toBeLessThan(2 * MiB);
    const cap = 256 * MiB;
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const archive = await extractArchive(file, {
        fileName: 'zeros.zip',
        workDir: await scratch.workDir(),
        // Only the archive cap may stop this one.
        limits: limits({ maxArchiveBytes: cap, maxFileBytes: 2 ** 40, maxTaskBytes: 2 ** 40, maxRatio: Infinity }),
      });
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(archive.errors).toEqual([{ code: 'zip_bomb', message: 'the archive expands beyond the 256 MiB limit', path: null }]);
      expect(archive.uncompressedBytes).toBeGreaterThan(cap);
      expect(archive.uncompressedBytes).toBeLessThan(cap + 2 * MiB);
    } finally {
      clearInterval(timer);
    }
    expect(peak - before).toBeLessThan(100 * MiB);
  });
});

describe('abort', () => {
  it('rejects with the abort reason before starting', async () => {
    const file = await yazlZip(scratch.file('a.zip'), under('fix-git', taskFiles()));
    const reason = new Error('request closed');
    await expect(
      extractArchive(file, { fileName: 'a.zip', workDir: await scratch.workDir(), signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
  });

  it('stops streaming promptly when aborted mid-entry', async () => {
    const file = await zipWithZeros(64 * MiB);
    const controller = new AbortController();
    const reason = new Error('request closed');
    let remaining = Number.MAX_SAFE_INTEGER;
    // The budget is read on every chunk: abort once 4 MiB have streamed.
    const budget = {
      get remainingBytes() {
        return remaining;
      },
      set remainingBytes(value: number) {
        remaining = value;
        if (Number.MAX_SAFE_INTEGER - value > 4 * MiB) controller.abort(reason);
      },
    };
    await expect(
      extractArchive(file, {
        fileName: 'zeros.zip',
        workDir: await scratch.workDir(),
        budget,
        signal: controller.signal,
        limits: limits({ maxRatio: Infinity }),
      }),
    ).rejects.toBe(reason);
    expect(Number.MAX_SAFE_INTEGER - remaining).toBeLessThan(8 * MiB);
  });
});
