// PostgreSQL refuses to run as root. A root launcher runs initdb and postgres as an existing
// unprivileged user instead (spawned with its uid/gid), and gives it the data directory; any other
// user runs them as itself.
import { execFile } from 'node:child_process';
import { lchown, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface ServerUser {
  name: string;
  uid: number;
  gid: number;
}

async function lookupUser(name: string): Promise<ServerUser | undefined> {
  const id = async (flag: string) => Number((await promisify(execFile)('id', [flag, name])).stdout.trim());
  try {
    const [uid, gid] = await Promise.all([id('-u'), id('-g')]);
    return Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0 ? { name, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Who runs the server for a root launcher: the owner of an existing data directory (so a cluster
 * made by a normal user stays theirs), else `postgres` (Debian's PostgreSQL packages make it), else
 * `nobody`. Undefined when the launcher is not root: the server runs as the launcher's user.
 */
export async function serverUser(dataDir: string): Promise<ServerUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const owner = await stat(dataDir).catch(() => undefined);
  if (owner && owner.uid !== 0) return { name: `uid ${owner.uid}`, uid: owner.uid, gid: owner.gid };
  for (const name of ['postgres', 'nobody']) {
    const user = await lookupUser(name);
    if (user) return user;
  }
  throw new Error(
    'PostgreSQL refuses to run as root and there is neither a "postgres" nor a "nobody" user to run it as: ' +
      'start as an unprivileged user, or set DATABASE_URL to a PostgreSQL server',
  );
}

/** Whether `user` may enter `dir`, by its mode bits (a root launcher's supplementary groups are not the user's). */
function canEnter(st: { uid: number; gid: number; mode: number }, user: ServerUser): boolean {
  if (st.uid === user.uid) return (st.mode & 0o100) !== 0;
  if (st.gid === user.gid) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** The first directory on the way to `dir` (itself included) that `user` may not enter, if any. */
export async function firstClosed(dir: string, user: ServerUser): Promise<{ dir: string; mode: number; uid: number } | undefined> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const st = await stat(current);
    if (!canEnter(st, user)) return { dir: current, mode: st.mode & 0o777, uid: st.uid };
    if (path.dirname(current) === current) return undefined;
  }
}

/** Fails with a clear message when `user` cannot reach `dir`, as postgres would later, less clearly. */
export async function assertReachable(dir: string, user: ServerUser): Promise<void> {
  const closed = await firstClosed(dir, user);
  if (closed) {
    throw new Error(
      `PostgreSQL runs as user ${user.name} (it refuses root), which cannot enter ${closed.dir} ` +
        `(mode ${closed.mode.toString(8)}, owner uid ${closed.uid}): keep the data in a directory it can reach ` +
        '(DATA_DIR), or set DATABASE_URL to a PostgreSQL server',
    );
  }
}

/** Gives a directory and everything in it to `user`. */
export async function chownTree(dir: string, user: ServerUser): Promise<void> {
  await lchown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { recursive: true })) {
    await lchown(path.join(dir, entry), user.uid, user.gid);
  }
}
