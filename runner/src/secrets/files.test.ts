import { mkdtemp, readFile, rm, stat, symlink, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { scrubFilesAtRest } from './files.js';
import { createScrubber, REDACTED } from './scrub.js';

const key = 'sk-ant-api03-files-at-rest-0123456789';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'scrub-files-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('rewrites text files holding a key, keeps their mode, and leaves binaries, large files and links alone', async () => {
  await mkdir(path.join(dir, 'agent/sessions'), { recursive: true });
  await writeFile(path.join(dir, 'trial.log'), `auth failed for ${key}\n`, { mode: 0o640 });
  await writeFile(path.join(dir, 'agent/sessions/s.json'), JSON.stringify({ env: { KEY: key } }));
  await writeFile(path.join(dir, 'agent/clean.txt'), 'nothing here');
  const binary = Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(key)]);
  await writeFile(path.join(dir, 'agent/image.bin'), binary);
  await writeFile(path.join(dir, 'agent/huge.log'), `${key}${'x'.repeat(2_000)}`);
  const outside = path.join(dir, '..', `${path.basename(dir)}-outside.txt`);
  await writeFile(outside, key);
  await symlink(outside, path.join(dir, 'link.txt'));

  const stats = await scrubFilesAtRest(dir, createScrubber([key]), 1_000);

  expect(stats.rewritten).toBe(2);
  expect(stats.skippedLarge).toEqual([path.join(dir, 'agent/huge.log')]);
  expect(await readFile(path.join(dir, 'trial.log'), 'utf8')).toBe(`auth failed for ${REDACTED}\n`);
  expect((await stat(path.join(dir, 'trial.log'))).mode & 0o777).toBe(0o640);
  expect(JSON.parse(await readFile(path.join(dir, 'agent/sessions/s.json'), 'utf8'))).toEqual({ env: { KEY: REDACTED } });
  expect(await readFile(path.join(dir, 'agent/clean.txt'), 'utf8')).toBe('nothing here');
  expect(await readFile(path.join(dir, 'agent/image.bin'))).toEqual(binary);
  expect(await readFile(outside, 'utf8')).toBe(key);
  await rm(outside);
});

it('does nothing without keys, and nothing in a folder that is not there', async () => {
  await writeFile(path.join(dir, 'a.txt'), key);
  expect(await scrubFilesAtRest(dir, createScrubber([]))).toEqual({ rewritten: 0, skippedLarge: [] });
  expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe(key);
  expect(await scrubFilesAtRest(path.join(dir, 'missing'), createScrubber([key]))).toEqual({ rewritten: 0, skippedLarge: [] });
});
