import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, raw, rawZip, Scratch, taskFiles, under, yazlZip, type RawEntry } from './test-zips.js';

let scratch: Scratch;
beforeAll(async () => {
  scratch = await Scratch.create();
});
afterAll(async () => {
  await scratch.cleanup();
});

const task = (prefix = 'fix-git') => raw(under(prefix, taskFiles()));

describe('entry-level rejections', () => {
  it('rejects a .. component as path_traversal (archive-level outside a task)', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: '../evil.sh', data: 'rm -rf /' }]));
    expect(archive.errors).toEqual([
      { code: 'path_traversal', message: 'entry "../evil.sh" points outside the archive', path: '../evil.sh' },
    ]);
    expect(archive.tasks).toMatchObject([{ name: 'fix-git', errors: [] }]);
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });

  it('rejects a .. component inside a task folder as that task’s path_traversal', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/../../etc/passwd', data: 'x' }]));
    expect(archive.errors).toEqual([]);
    expect(codes(archive.tasks[0]!.errors)).toEqual(['path_traversal']);
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });

  it('rejects absolute paths, drive letters and UNC prefixes as absolute_path', async () => {
    const archive = await scratch.extract(
      rawZip([
        ...task(),
        { name: '/etc/passwd', data: 'x' },
        { name: 'C:\\Windows\\evil.dll', data: 'x' },
        { name: '\\\\server\\share\\x', data: 'x' },
      ]),
    );
    expect(codes(archive.errors)).toEqual(['absolute_path', 'absolute_path', 'absolute_path']);
    expect(archive.errors[0]!.message).toBe('entry "/etc/passwd" is an absolute path');
  });

  it('rejects a symlink as symlink and never creates it', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/environment/link', data: '/etc/passwd', mode: 0o120777, method: 0 }]));
    const t = archive.tasks[0]!;
    expect(t.errors).toEqual([
      { code: 'symlink', message: expect.stringContaining('entry "fix-git/environment/link" is a link/special file'), path: 'fix-git/environment/link' },
    ]);
    expect(t.dir).toBeUndefined();
  });

  it('rejects other special files (a FIFO) as symlink', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/fifo', data: '', mode: 0o010644, method: 0 }]));
    expect(codes(archive.tasks[0]!.errors)).toEqual(['symlink']);
  });

  it('rejects two entries with the same normalised path as duplicate_entry', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: './fix-git/tests/test.sh', data: 'other' }]));
    expect(archive.tasks[0]!.errors).toEqual([
      { code: 'duplicate_entry', message: '"fix-git/tests/test.sh" appears twice', path: 'fix-git/tests/test.sh' },
    ]);
  });

  it('rejects a path that is both a file and a folder as duplicate_entry', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/data', data: 'x' }, { name: 'fix-git/data/a', data: 'y' }]));
    expect(codes(archive.tasks[0]!.errors)).toEqual(['duplicate_entry']);
  });

  it('rejects paths equal ignoring case as case_collision naming both', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/Task.toml', data: 'x = 1' }]));
    expect(archive.tasks[0]!.errors).toEqual([
      { code: 'case_collision', message: '"fix-git/Task.toml" and "fix-git/task.toml" differ only by case', path: 'fix-git/Task.toml' },
    ]);
  });

  it('reports a case collision of folders once, at the folder', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/Tests/test.sh', data: 'x' }]));
    expect(archive.tasks[0]!.errors.map((e) => e.message)).toEqual(['"fix-git/Tests" and "fix-git/tests" differ only by case']);
  });

  it('rejects an encrypted entry as encrypted_entry', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: 'fix-git/secret.bin', data: 'garbage-ciphertext', flags: 0x801, method: 8 }]));
    expect(archive.tasks[0]!.errors).toEqual([
      { code: 'encrypted_entry', message: expect.stringContaining('encrypted entries are not supported'), path: 'fix-git/secret.bin' },
    ]);
  });

  it('rejects a name that is UTF-8 neither with nor without the flag as non_utf8_name', async () => {
    const latin1 = Buffer.from('fix-git/caf\xe9.txt', 'latin1');
    const archive = await scratch.extract(rawZip([...task(), { name: latin1, data: 'x' }]));
    expect(codes(archive.tasks[0]!.errors)).toEqual(['non_utf8_name']);
    expect(archive.tasks[0]!.errors[0]!.message).toContain('file names must be UTF-8 (ASCII recommended)');
  });

  it('reads valid UTF-8 names without the UTF-8 flag as UTF-8 (Info-ZIP under a C locale)', async () => {
    // Info-ZIP zip 3.0 run with LANG=C stores the bytes as they are and leaves bit 11 clear.
    const name = Buffer.from('fix-git/tests/données-é.txt', 'utf8');
    const archive = await scratch.extract(rawZip([...task(), { name, data: 'x', flags: 0 }]));
    expect(archive.errors).toEqual([]);
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.files!.map((f) => f.path)).toContain('tests/données-é.txt');
  });

  it('ignores a Unicode Path field whose CRC does not match the raw name', async () => {
    // A stale field (the entry was renamed by a tool that kept the old extra field): the raw name wins.
    const rawName = Buffer.from('fix-git/new.txt', 'utf8');
    const stale = Buffer.from('fix-git/old.txt', 'utf8');
    const field = Buffer.alloc(9 + stale.length);
    field.writeUInt16LE(0x7075, 0);
    field.writeUInt16LE(5 + stale.length, 2);
    field.writeUInt8(1, 4);
    field.writeUInt32LE(crc32(stale), 5);
    stale.copy(field, 9);
    const archive = await scratch.extract(rawZip([...task(), { name: rawName, data: 'x', extra: field }]));
    expect(archive.tasks[0]!.files!.map((f) => f.path)).toContain('new.txt');
    expect(archive.tasks[0]!.files!.map((f) => f.path)).not.toContain('old.txt');
  });

  it('rejects invalid UTF-8 with the flag, and control characters, as non_utf8_name', async () => {
    const archive = await scratch.extract(
      rawZip([
        ...task(),
        { name: Buffer.from([0x66, 0x69, 0x78, 0x2d, 0x67, 0x69, 0x74, 0x2f, 0xc3, 0x28]), data: 'x', flags: 0x800 },
        { name: 'fix-git/bell\u0007.txt', data: 'x' },
      ]),
    );
    expect(codes(archive.tasks[0]!.errors)).toEqual(['non_utf8_name', 'non_utf8_name']);
  });

  it('accepts a UTF-8 name with the flag, or with a matching Info-ZIP Unicode Path field', async () => {
    const native = Buffer.from('fix-git/caf\xe9.txt', 'latin1');
    const unicode = Buffer.from('fix-git/café.txt', 'utf8');
    const field = Buffer.alloc(9 + unicode.length);
    field.writeUInt16LE(0x7075, 0);
    field.writeUInt16LE(5 + unicode.length, 2);
    field.writeUInt8(1, 4);
    field.writeUInt32LE(crc32(native), 5);
    unicode.copy(field, 9);
    const archive = await scratch.extract(
      rawZip([...task(), { name: native, data: 'x', extra: field }, { name: 'fix-git/naïve.txt', data: 'y' }]),
    );
    expect(archive.errors).toEqual([]);
    expect(archive.tasks[0]!.errors).toEqual([]);
    expect(archive.tasks[0]!.files!.map((f) => f.path)).toEqual(expect.arrayContaining(['café.txt', 'naïve.txt']));
  });

  it('rejects only the task that holds a bad entry', async () => {
    const archive = await scratch.extract(
      rawZip([...task('fix-git'), ...task('regex-log'), { name: 'regex-log/tests/link', data: '../x', mode: 0o120777, method: 0 }]),
    );
    expect(archive.errors).toEqual([]);
    const [good, bad] = archive.tasks;
    expect(good).toMatchObject({ name: 'fix-git', errors: [] });
    expect(good!.dir).toBeDefined();
    expect(bad).toMatchObject({ name: 'regex-log', errors: [{ code: 'symlink' }] });
    expect(Object.keys(bad!).sort()).toEqual(['errors', 'name', 'rootPath', 'warnings']);
  });

  it('makes an entry-level problem outside every task an archive-level error', async () => {
    const archive = await scratch.extract(rawZip([...task(), { name: Buffer.from('notes-\xff.txt', 'latin1'), data: 'x' }]));
    expect(codes(archive.errors)).toEqual(['non_utf8_name']);
    expect(archive.tasks).toMatchObject([{ name: 'fix-git', errors: [] }]);
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });
});

describe('zip_invalid', () => {
  it('rejects a file that is not a zip', async () => {
    const archive = await scratch.extract(Buffer.from('this is not a zip file at all, just some text'.repeat(10)));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
    expect(archive.errors[0]!.message).toMatch(/^the archive is damaged or uses an unsupported method \(.+\)$/);
    expect(archive.tasks).toEqual([]);
  });

  it('rejects an empty file', async () => {
    const archive = await scratch.extract(Buffer.alloc(0));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
  });

  it('rejects a truncated zip', async () => {
    const file = await yazlZip(scratch.file('full.zip'), under('fix-git', taskFiles()));
    const bytes = await readFile(file);
    const archive = await scratch.extract(bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
  });

  it('rejects an unsupported compression method', async () => {
    const entry: RawEntry = { name: 'fix-git/data.bin', data: 'pretend-lzma', method: 14 };
    const archive = await scratch.extract(rawZip([...task(), entry]));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
    expect(archive.errors[0]!.message).toContain('compression method 14');
    expect(archive.tasks.every((t) => t.dir === undefined)).toBe(true);
  });

  it('rejects a CRC mismatch', async () => {
    const entries = task();
    entries[1] = { ...entries[1]!, crc: 0x12345678 };
    const archive = await scratch.extract(rawZip(entries));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
    expect(archive.errors[0]!.message).toContain('CRC');
    expect(archive.tasks[0]!.dir).toBeUndefined();
  });

  it('rejects corrupt deflate data', async () => {
    const file = await yazlZip(scratch.file('ok.zip'), under('fix-git', taskFiles({ 'big.txt': 'hello world '.repeat(2000) })));
    const bytes = Buffer.from(await readFile(file));
    const at = bytes.indexOf('fix-git/big.txt') + 'fix-git/big.txt'.length + 40;
    bytes.fill(0xff, at, at + 20);
    const archive = await scratch.extract(bytes);
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
  });

  it('leaves nothing named after a task in workDir when the archive is rejected', async () => {
    const entries = task();
    entries[5] = { ...entries[5]!, crc: 1 };
    const archive = await scratch.extract(rawZip(entries));
    expect(codes(archive.errors)).toEqual(['zip_invalid']);
    const workDirs = (await readdir(scratch.dir)).filter((d) => d.startsWith('work-')).sort();
    const last = path.join(scratch.dir, workDirs[workDirs.length - 1]!);
    expect(await readdir(path.join(last, '0'))).toEqual(['.staging']);
  });
});
