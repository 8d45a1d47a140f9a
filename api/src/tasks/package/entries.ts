// Reading the central directory: decoding and normalising entry names (tb2-task-format.md §3 "Root
// detection" step 1–2) and the entry-level checks of §3 "Rejections". Nothing here reads file data.
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { messages, problem, type Problem } from './problems.js';

/** The zip itself is unreadable; becomes `zip_invalid`. */
export class ZipDamaged extends Error {
  override name = 'ZipDamaged';
}

/** One central-directory entry whose path could be normalised (debris already dropped). */
export interface ZipItem {
  entry: Entry;
  /** The name as stored (decoded), for messages. */
  name: string;
  /** Normalised: '/'-separated, no leading './', no trailing '/', no empty or '.' components. */
  path: string;
  isDir: boolean;
  executable: boolean;
  /** Has an entry-level problem: never extracted and never read. */
  blocked: boolean;
}

/** An entry-level problem and the paths it concerns, used to attribute it to tasks. */
export interface Finding {
  problem: Problem;
  paths: string[];
}

export interface EntryScan {
  items: ZipItem[];
  findings: Finding[];
  /** Some names used '\' separators (one warning per archive). */
  backslashes: boolean;
  /** An entry needs a compression method other than stored or deflate. */
  unsupported: Problem | null;
}

export function openZip(zipPath: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      zipPath,
      { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: false },
      (error, zip) => {
        if (error) reject(isIoError(error) ? error : new ZipDamaged(error.message));
        else resolve(zip);
      },
    );
  });
}

/** Errors of the file system (errno codes) are real I/O failures; everything else is the zip's fault. */
export function isIoError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** Reads every central-directory record. Rejects with ZipDamaged, or the abort reason. */
export function readEntries(zip: ZipFile, signal?: AbortSignal): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    const done = () => {
      zip.removeAllListeners('entry');
      zip.removeAllListeners('end');
      zip.removeAllListeners('error');
      // yauzl may emit a late error after we stopped listening; swallow it.
      zip.on('error', () => {});
    };
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      if (signal?.aborted) {
        done();
        reject(signal.reason);
      } else {
        zip.readEntry();
      }
    });
    zip.once('end', () => {
      done();
      resolve(entries);
    });
    zip.once('error', (error: Error) => {
      done();
      reject(isIoError(error) ? error : new ZipDamaged(error.message));
    });
    zip.readEntry();
  });
}

const GP_ENCRYPTED = 0x1;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

interface DecodedName {
  name: string;
  /** Not UTF-8 (or has control characters); `name` is then a lossy rendering. */
  invalid: 'encoding' | 'control' | null;
}

/**
 * Names are read as UTF-8 whether or not bit 11 (the UTF-8 flag) is set: Info-ZIP `zip` under a C
 * locale writes UTF-8 bytes without the flag, and those names are as good as flagged ones. The
 * Info-ZIP Unicode Path extra field (0x7075, version 1) wins over the raw name when its CRC matches
 * the raw bytes (a stale field, left by a tool that renamed the entry, does not). Only a name that is
 * UTF-8 neither way is refused (tb2-task-format.md §3 `non_utf8_name`).
 */
export function decodeName(entry: Entry): DecodedName {
  const raw = entry.fileNameRaw;
  const field = entry.extraFields.find((f) => f.id === 0x7075);
  let name: string | null = null;
  if (field && field.data.length >= 5 && field.data[0] === 1 && field.data.readUInt32LE(1) === crc32(raw)) {
    name = utf8(field.data.subarray(5));
  }
  name ??= utf8(raw);
  if (name === null) return { name: new TextDecoder('utf-8').decode(raw), invalid: 'encoding' };
  return { name, invalid: CONTROL.test(name) ? 'control' : null };
}

function utf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** macOS and Windows leftovers, dropped silently before every check (§3 step 2). */
export function isDebris(components: string[]): boolean {
  const base = components[components.length - 1] ?? '';
  if (components.includes('__MACOSX')) return true;
  if (base === '.DS_Store' || base.startsWith('._')) return true;
  const lower = base.toLowerCase();
  return lower === 'thumbs.db' || lower === 'desktop.ini';
}

/** The file data can be read by us: stored (0) or deflate (8). */
const SUPPORTED_METHODS = new Set([0, 8]);

export function scanEntries(entries: Entry[]): EntryScan {
  const items: ZipItem[] = [];
  const findings: Finding[] = [];
  let backslashes = false;
  let unsupported: Problem | null = null;
  const add = (p: Problem, paths: string[]) => findings.push({ problem: p, paths });

  for (const entry of entries) {
    const decoded = decodeName(entry);
    const slashed = decoded.name.replaceAll('\\', '/');
    const components = slashed.split('/').filter((c) => c !== '' && c !== '.');
    if (isDebris(components)) continue;
    if (slashed !== decoded.name) backslashes = true;

    const unixMode = entry.versionMadeBy >> 8 === 3 ? entry.externalFileAttributes >>> 16 : 0;
    const type = unixMode & S_IFMT;
    const isDir = slashed.endsWith('/') || type === S_IFDIR;
    const absolute = slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed);
    // Absolute names keep their leading part so they are never attributed to a task folder.
    const path = absolute ? slashed.replace(/\/+$/, '') : components.join('/');
    const name = decoded.name;

    let pathOk = true;
    if (decoded.invalid !== null) {
      add(problem('non_utf8_name', decoded.invalid === 'encoding' ? messages.nonUtf8(name) : messages.controlChars(name), path), [path]);
      pathOk = false;
    }
    if (absolute) {
      add(problem('absolute_path', messages.absolutePath(name), path), [path]);
      pathOk = false;
    } else if (components.includes('..')) {
      add(problem('path_traversal', messages.pathTraversal(name), path), [path]);
      pathOk = false;
    }
    if (path === '' && !absolute) {
      // './' alone is a harmless folder entry; a file without a name cannot be extracted.
      if (!isDir) add(problem('zip_invalid', messages.emptyName()), []);
      continue;
    }

    let blocked = !pathOk;
    if (type !== 0 && type !== S_IFREG && type !== S_IFDIR) {
      add(problem('symlink', messages.symlink(name), path), [path]);
      blocked = true;
    }
    if ((entry.generalPurposeBitFlag & GP_ENCRYPTED) !== 0) {
      add(problem('encrypted_entry', messages.encrypted(name), path), [path]);
      blocked = true;
    } else if (!isDir && !SUPPORTED_METHODS.has(entry.compressionMethod) && unsupported === null) {
      unsupported = problem('zip_invalid', messages.zipInvalid(`entry ${JSON.stringify(name)} uses compression method ${entry.compressionMethod}`), path);
    }
    if (!pathOk) continue;
    items.push({ entry, name, path, isDir, executable: (unixMode & 0o111) !== 0, blocked });
  }

  checkDuplicates(items, add);
  checkCase(items, add);
  return { items, findings, backslashes, unsupported };
}

type Add = (p: Problem, paths: string[]) => void;

/** Two files at one path, or a path that is both a file and a folder. Repeated folder entries are harmless. */
function checkDuplicates(items: ZipItem[], add: Add): void {
  const files = new Map<string, ZipItem[]>();
  const folders = new Set<string>();
  for (const item of items) {
    if (item.isDir) folders.add(item.path);
    else files.set(item.path, [...(files.get(item.path) ?? []), item]);
    for (const parent of ancestors(item.path)) folders.add(parent);
  }
  for (const [path, same] of files) {
    const first = same[0]!;
    if (same.length > 1) add(problem('duplicate_entry', messages.duplicateEntry(first.name), path), [path]);
    else if (folders.has(path)) add(problem('duplicate_entry', messages.fileAndFolder(first.name), path), [path]);
    else continue;
    for (const item of same) item.blocked = true;
  }
}

/**
 * Paths equal ignoring case would overwrite each other on macOS and Windows checkouts. Reported once
 * at the highest colliding level; every file at or below a colliding path is blocked.
 */
function checkCase(items: ZipItem[], add: Add): void {
  const byLower = new Map<string, Set<string>>();
  const note = (path: string) => {
    const lower = path.toLowerCase();
    const set = byLower.get(lower) ?? new Set<string>();
    set.add(path);
    byLower.set(lower, set);
  };
  for (const item of items) {
    note(item.path);
    for (const parent of ancestors(item.path)) note(parent);
  }
  const colliding = new Set<string>();
  for (const [lower, set] of byLower) if (set.size > 1) colliding.add(lower);
  if (colliding.size === 0) return;

  for (const lower of colliding) {
    if (ancestors(lower).some((parent) => colliding.has(parent))) continue;
    const [a, b] = [...byLower.get(lower)!].sort();
    add(problem('case_collision', messages.caseCollision(a!, b!), a!), [...byLower.get(lower)!]);
  }
  for (const item of items) {
    const lower = item.path.toLowerCase();
    if (colliding.has(lower) || ancestors(lower).some((parent) => colliding.has(parent))) item.blocked = true;
  }
}

/** 'a/b/c' -> ['a', 'a/b']. */
export function ancestors(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}
