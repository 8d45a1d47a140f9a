// Keys out of a finished trial's files at rest. Harbor only redacts keys it was given in
// agents[].env, and the platform hands keys over through the environment instead, so whatever an
// agent or a provider's traceback printed (the pane, trial.log, an installed agent's own log,
// exception.txt) would stay in clear on shared storage. After the trial the runner rewrites those
// files in place.
import { lstat, open as openFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Scrubber } from './scrub.js';

/** Larger files are left alone (and named in the log): agents' text logs stay far below this. */
export const MAX_SCRUBBED_FILE_BYTES = 64 * 1024 * 1024;
/** A NUL in the first bytes marks a binary file (images, databases, archives): rewriting it would corrupt it. */
const BINARY_SNIFF_BYTES = 8_192;

export interface ScrubFilesStats {
  /** Files that held a key and were rewritten. */
  rewritten: number;
  /** Text files too large to read whole, left as they are. */
  skippedLarge: string[];
}

/**
 * Rewrites every text file under `dir` (symlinks are not followed) that holds a key. The new content
 * goes to a temporary file beside the old one and replaces it by rename, so a reader never sees half
 * a file. Unreadable entries are skipped: a trial that finished stays finished.
 */
export async function scrubFilesAtRest(dir: string, scrubber: Scrubber, maxFileBytes = MAX_SCRUBBED_FILE_BYTES): Promise<ScrubFilesStats> {
  const stats: ScrubFilesStats = { rewritten: 0, skippedLarge: [] };
  if (!scrubber.active) return stats;
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const file = path.join(current, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.isFile()) await scrubFile(file, scrubber, maxFileBytes, stats);
    }
  };
  await walk(dir);
  return stats;
}

async function scrubFile(file: string, scrubber: Scrubber, maxFileBytes: number, stats: ScrubFilesStats): Promise<void> {
  const info = await lstat(file).catch(() => null);
  if (!info?.isFile() || info.size === 0) return;
  if (info.size > maxFileBytes) {
    stats.skippedLarge.push(file);
    return;
  }
  const handle = await openFile(file, 'r').catch(() => null);
  if (!handle) return;
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) return;
  const scrubbed = scrubber.scrubBytes(bytes);
  if (!scrubbed) return;
  const temporary = `${file}.scrub-${process.pid}`;
  try {
    await writeFile(temporary, scrubbed, { mode: info.mode & 0o777 });
    await rename(temporary, file);
    stats.rewritten++;
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
