// One stored file of a task, read for the task page's viewer, and the language it is highlighted in.
// The path comes from a client, so it must name an entry of the task's own file list (written at
// upload, from the package's regular files): that alone keeps `..`, absolute paths and anything
// outside the package away, and the resolved path is checked to stay in the task folder besides.
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { TaskFile } from './package/index.js';
import type { TaskStore } from './store.js';

/**
 * Bytes of one file shown in the viewer. Task files are instructions, configs, tests and scripts
 * (kilobytes); a 512 KiB excerpt still scrolls and highlights without stalling the browser, and the
 * zip download has the whole file.
 */
export const MAX_FILE_TEXT_BYTES = 512 * 1024;

/** How much of the start is looked at for NUL bytes, as git and grep decide "binary". */
const SNIFF_BYTES = 8 * 1024;

export interface TaskFileText {
  path: string;
  /** null for a binary file: it is not shown. */
  text: string | null;
  truncated: boolean;
  language: string;
  size: number;
  binary: boolean;
}

export class TaskFilePathError extends Error {}

/** The highlighter's language for a file of a task package, from its name (Harbor's layout first). */
export function languageOf(file: string): string {
  const name = path.posix.basename(file).toLowerCase();
  if (name === 'dockerfile' || name.startsWith('dockerfile.') || name.endsWith('.dockerfile') || name === 'containerfile') return 'dockerfile';
  const ext = path.posix.extname(name);
  switch (ext) {
    case '.toml':
      return 'toml';
    case '.py':
      return 'python';
    case '.sh':
    case '.bash':
      return 'bash';
    case '.yaml':
    case '.yml':
      return 'yaml';
    case '.json':
    case '.jsonl':
      return 'json';
    case '.md':
    case '.markdown':
      return 'markdown';
    default:
      return 'plaintext';
  }
}

/**
 * Reads `relative` from the stored task: at most MAX_FILE_TEXT_BYTES of it, as UTF-8 text, or no
 * text for a binary file (a NUL byte near the start, or bytes that are not UTF-8).
 */
export async function readTaskFileText(
  store: TaskStore,
  task: { contentHash: string; name: string; files: TaskFile[] },
  relative: string,
): Promise<TaskFileText | null> {
  if (relative.length > 1_000 || /[\\\0]/.test(relative) || relative.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new TaskFilePathError(`"${relative.slice(0, 200)}" is not a plain path inside the task`);
  }
  const entry = task.files.find((f) => f.path === relative);
  if (!entry) return null;
  const dir = await realpath(store.taskDir(task.contentHash, task.name));
  const real = await realpath(path.join(dir, ...relative.split('/')));
  if (!real.startsWith(`${dir}${path.sep}`)) throw new TaskFilePathError(`"${relative}" leads outside the task`);

  const handle = await open(real, 'r');
  let bytes: Buffer;
  let size: number;
  try {
    size = (await handle.stat()).size;
    // One byte more than the cap tells a file of exactly the cap from a longer one.
    const buffer = Buffer.alloc(Math.min(size, MAX_FILE_TEXT_BYTES + 1));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const truncated = bytes.length > MAX_FILE_TEXT_BYTES;
  if (truncated) bytes = bytes.subarray(0, MAX_FILE_TEXT_BYTES);
  const base = { path: relative, language: languageOf(relative), size, truncated };
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return { ...base, text: null, binary: true };
  try {
    // `stream: true` holds back a character the cut split in two instead of calling it invalid.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: truncated });
    return { ...base, text, binary: false };
  } catch {
    return { ...base, text: null, binary: true };
  }
}
