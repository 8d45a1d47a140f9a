import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { TaskStore } from './store.js';

let root: string;
let store: TaskStore;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'thr-store-'));
  store = new TaskStore(root);
});
afterEach(() => rm(root, { recursive: true, force: true }));

it('commits a package once; a second commit of the same hash keeps the first', async () => {
  const hash = 'a'.repeat(64);
  for (const content of ['first', 'second']) {
    const work = await store.incoming();
    await mkdir(path.join(work, 'pkg', 'demo'), { recursive: true });
    await writeFile(path.join(work, 'pkg', 'demo', 'task.toml'), content);
    expect(await store.commit(path.join(work, 'pkg'), hash)).toBe(content === 'first');
    await store.discard(work);
  }
  expect(await readdir(store.taskDir(hash, 'demo'))).toEqual(['task.toml']);
  await store.remove(hash);
  expect((await readdir(root)).filter((n) => !n.startsWith('.'))).toEqual([]);
});

it('sweeps what an interrupted upload left behind, but not an upload in progress', async () => {
  const abandoned = await store.incoming();
  const current = await store.incoming();
  const sixHoursAgo = new Date(Date.now() - 7 * 60 * 60 * 1000);
  await utimes(abandoned, sixHoursAgo, sixHoursAgo);

  expect(await store.sweep()).toBe(1);
  expect(await readdir(path.join(root, '.incoming'))).toEqual([path.basename(current)]);
});
