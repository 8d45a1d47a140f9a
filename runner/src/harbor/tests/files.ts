// Reading the verifier's files without trusting their size or number: test.sh may leave anything
// under verifier/ (a tool's whole output directory, gigabytes of logs).
import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { TRIAL_FILES } from '../../protocol/layout.js';

/** Up to `max` bytes of a file (its end when `tail`), or null when it does not exist. */
export async function readBounded(file: string, max: number, tail: boolean): Promise<{ text: string; size: number } | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, tail ? size - length : 0);
    return { text: buffer.subarray(0, bytesRead).toString('utf8'), size };
  } finally {
    await handle.close();
  }
}

/** Files Harbor and the simulator write themselves, or that the CTRF reader reads first. */
const NOT_REPORTS = new Set<string>([TRIAL_FILES.ctrf, TRIAL_FILES.rewardJson]);
const REPORT_FILE = /\.(xml|json|jsonl)$/i;
const MAX_DEPTH = 4;
const MAX_ENTRIES = 2_000;
const MAX_REPORTS = 50;

/**
 * Candidate report files under verifier/ (JUnit XML, jest/vitest and go test JSON), relative to the
 * trial directory, sorted so the choice between several never depends on the file system's order.
 * A bounded walk: at most MAX_ENTRIES directory entries, MAX_DEPTH levels, MAX_REPORTS files.
 */
export async function listVerifierReports(trialDir: string): Promise<string[]> {
  const found: string[] = [];
  let seen = 0;
  const walk = async (relative: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(path.join(trialDir, relative), { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (++seen > MAX_ENTRIES || found.length >= MAX_REPORTS) return;
      const file = path.posix.join(relative, entry.name);
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(file, depth + 1);
      else if (entry.isFile() && REPORT_FILE.test(entry.name) && !NOT_REPORTS.has(file)) found.push(file);
    }
  };
  await walk('verifier', 1);
  return found;
}
