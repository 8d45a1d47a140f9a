// Task packages on disk: TASKS_DIR/<contentHash>/<task-name>/…, content-addressed so a stored
// package never changes. New packages are unpacked under TASKS_DIR/.incoming (same filesystem, so
// the final move is one atomic rename) and moved into place only once they are complete.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

const INCOMING = '.incoming';
const TRASH = '.trash';
/** Incoming folders older than this belong to a crashed upload (no upload runs this long). */
const ABANDONED_AFTER_MS = 6 * 60 * 60 * 1000;

export class TaskStore {
  constructor(readonly root: string) {}

  /** The folder Harbor is pointed at for a stored task. */
  taskDir(contentHash: string, name: string): string {
    return path.join(this.root, contentHash, name);
  }

  /** A fresh, empty working folder for one upload; the caller removes it with `discard`. */
  async incoming(): Promise<string> {
    const dir = path.join(this.root, INCOMING, randomUUID());
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async discard(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /**
   * Moves a complete package folder (holding the `<name>/` folder) to TASKS_DIR/<hash>. Returns false
   * when that hash is already stored: same hash, same bytes, so the existing copy serves.
   */
  async commit(packageDir: string, contentHash: string): Promise<boolean> {
    try {
      await rename(packageDir, path.join(this.root, contentHash));
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') return false;
      throw error;
    }
  }

  /** Removes a stored package: renamed away first, so readers never see it half deleted. */
  async remove(contentHash: string): Promise<void> {
    const trash = path.join(this.root, TRASH, `${contentHash}-${randomUUID()}`);
    await mkdir(path.dirname(trash), { recursive: true });
    try {
      await rename(path.join(this.root, contentHash), trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }

  /** Deletes what crashed uploads and deletions left behind. Safe with other replicas running. */
  async sweep(now = Date.now()): Promise<number> {
    let removed = 0;
    for (const sub of [INCOMING, TRASH]) {
      const dir = path.join(this.root, sub);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const full = path.join(dir, name);
        const info = await stat(full).catch(() => undefined);
        if (info && now - info.mtimeMs > ABANDONED_AFTER_MS) {
          await rm(full, { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
