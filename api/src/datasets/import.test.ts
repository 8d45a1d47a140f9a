// The path checks of importDataset, against a real folder with links in and out of the root.
import { mkdir, mkdtemp, realpath, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../schema/errors.js';
import { isInside, resolveInside } from './import.js';

let base: string;
let root: string;
beforeAll(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'thr-import-unit-')));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'tb2', 'fix-git'), { recursive: true });
  await mkdir(path.join(base, 'elsewhere'));
  await symlink(path.join(base, 'elsewhere'), path.join(root, 'out'));
  await symlink(path.join(root, 'tb2'), path.join(root, 'alias'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

async function refusal(requested: string): Promise<string> {
  const error = await resolveInside(root, requested).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  expect((error as InvalidInputError).field).toBe('input.path');
  return (error as Error).message;
}

describe('resolveInside', () => {
  it('takes paths under the root, relative or absolute, and links that stay inside', async () => {
    expect(await resolveInside(root, 'tb2')).toBe(path.join(root, 'tb2'));
    expect(await resolveInside(root, path.join(root, 'tb2', 'fix-git'))).toBe(path.join(root, 'tb2', 'fix-git'));
    expect(await resolveInside(root, 'tb2/../tb2/fix-git/')).toBe(path.join(root, 'tb2', 'fix-git'));
    expect(await resolveInside(root, 'alias')).toBe(path.join(root, 'tb2'));
  });

  it('refuses paths that leave the root, by name or through a link, and names which', async () => {
    expect(await refusal('../elsewhere')).toBe(`../elsewhere is outside DATASET_IMPORT_ROOT (${root}); only paths under it may be imported`);
    expect(await refusal('/etc')).toMatch(/^\/etc is outside DATASET_IMPORT_ROOT/);
    expect(await refusal('out')).toBe(`out goes through a link to ${path.join(base, 'elsewhere')}, outside DATASET_IMPORT_ROOT (${root}); only paths under it may be imported`);
    expect(await refusal('missing')).toBe('missing does not exist under DATASET_IMPORT_ROOT');
    expect(await refusal('  ')).toMatch(/path must name a folder or manifest/);
  });

  it('compares whole path components (root-other is not inside root)', () => {
    expect(isInside('/data/root', '/data/root')).toBe(true);
    expect(isInside('/data/root', '/data/root/a')).toBe(true);
    expect(isInside('/data/root', '/data/root-other')).toBe(false);
    expect(isInside('/data/root', '/data')).toBe(false);
  });
});
