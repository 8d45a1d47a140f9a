// Poll-based tailing of the files Harbor writes into a trial directory (harbor-contract.md §4
// "Worth tailing"). Files are read by byte offset in bounded slices, never whole. The agent's
// files live in a directory the container can write to, so nothing here follows a symlink
// (O_NOFOLLOW on open, dirent types when listing) or blocks on a FIFO (O_NONBLOCK, then fstat).
import { close, constants, fstat, open as openFd, read, type Dirent, type Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LOG_SOURCES } from '../protocol/messages.js';
import { LineSplitter } from './lines.js';
import { baseName, STEPS_DIR, stepDir, TRIAL_FILES } from '../protocol/layout.js';
import { MAX_TRAJECTORY_BYTES, summariseTrajectory, TRAJECTORY_FILE, type TrajectoryProgress } from './trajectory.js';

export type LogSource = (typeof LOG_SOURCES)[number];

/** Bytes read per file per poll: 1 MiB/s per file at the default 250 ms poll, with bounded memory. */
export const SLICE_BYTES = 256 * 1024;

/** How much of a file's first read is checked for a NUL byte (binary files are skipped). */
const BINARY_SNIFF_BYTES = 8 * 1024;

/** A trajectory that stays unparseable for this many polls without changing is left until it changes. */
const MAX_PARSE_RETRIES = 5;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Descriptors a capture keeps open between reads, so that a file the kernel says was written is
 * read with fstat + read instead of open + fstat + read + close (each a trip through libuv's pool).
 * Bounded: a capture can tail up to 200 files, and descriptors are a process-wide limit.
 */
export class OpenFiles {
  open = 0;
  constructor(readonly max: number) {}
}

// The callback forms: cheaper per call than FileHandle's promises, which matters at 200 trials.
const fstatFd = (fd: number) => new Promise<Stats>((resolve, reject) => fstat(fd, (e, st) => (e ? reject(e) : resolve(st))));
const readFd = (fd: number, into: Buffer, length: number, position: number) =>
  new Promise<number>((resolve, reject) => read(fd, into, 0, length, position, (e, n) => (e ? reject(e) : resolve(n))));
const closeFd = (fd: number) => close(fd, () => undefined);
const openPath = (abs: string) => new Promise<number>((resolve, reject) => openFd(abs, OPEN_FLAGS, (e, fd) => (e ? reject(e) : resolve(fd))));

/** How a tail hands on what it read. */
export interface TailSink {
  /** A complete line (head, bytes cut from its end), to be scrubbed, capped and buffered. */
  line(source: LogSource, file: string, head: string, droppedBytes: number): void;
  /** A line from the runner about the tailing itself (skipped file, read error). */
  notice(text: string): void;
}

/** Appended text files: trial.log, the pane, test-stdout.txt, job.log, agent text files. */
export class FileTail {
  readonly abs: string;
  readonly file: string;
  readonly #sink: TailSink;
  readonly #splitter: LineSplitter;
  #decoder = new StringDecoder('utf8');
  #offset = 0;
  /**
   * Another inode under the same name starts over even when it is larger. (Not birthtime: where
   * statx is unavailable libuv reports ctime there, which changes on every append.)
   */
  #ino: number | null = null;
  #sniffed = false;
  /** Binary, symlink, not a regular file: never read again (unless it is rewritten, for binary). */
  #skipped: string | null = null;
  #errorNoted = false;
  /** Where the last file gone from the name had been read to, should it turn up elsewhere (continueFrom). */
  #lost: { ino: number; offset: number; sniffed: boolean; skipped: string | null } | null = null;
  /** Kept open between polls while `#openFiles` allows; always the file at #ino. */
  #fd: number | null = null;
  readonly #openFiles: OpenFiles | null;
  /** The last poll stopped short of the end it saw (one slice per poll). */
  behind = false;

  constructor(abs: string, file: string, source: LogSource, sink: TailSink, keepChars: number, openFiles: OpenFiles | null = null) {
    this.abs = abs;
    this.file = file;
    this.#sink = sink;
    this.#openFiles = openFiles;
    this.#splitter = new LineSplitter(keepChars, (head, dropped) => sink.line(source, file, head, dropped));
  }

  /**
   * Reads new bytes: one slice, or with `toEnd` every byte up to the size seen now (a writer that
   * never stops cannot hold stop() forever), calling `between` after each slice so the caller can
   * drain its buffer. `reported`: a change notification named the file as written, so the
   * descriptor kept from the last read still is the file (a rename or a new file under the name
   * comes as `renamed`, and the name is looked up again). True when the file had changed (new
   * bytes, or rewritten).
   */
  async poll(slice: Buffer, toEnd = false, between?: () => Promise<void>, reported = false, renamed = false): Promise<boolean> {
    this.behind = false;
    if (this.#skipped === 'symlink' || this.#skipped === 'special') return false;
    const named = reported && !renamed && !toEnd && this.#fd !== null;
    if (!named) {
      // Most polls find nothing new: one lstat answers that without opening the file.
      let st: Stats;
      try {
        st = await lstat(this.abs);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          // Gone: let go of it (on NFS an open, deleted file lingers as .nfs* until closed), and
          // read one made again under the name from its start, even if it gets the same inode
          // number back (file systems reuse them at once).
          this.#release();
          if (this.#ino !== null) {
            // Kept in case it was moved, not deleted: a step's file Harbor filed under steps/<name>/.
            this.#lost = { ino: this.#ino, offset: this.#offset, sniffed: this.#sniffed, skipped: this.#skipped };
            this.#restart();
            this.#ino = null;
          }
        }
        return false;
      }
      if (!toEnd && this.#fd !== null && st.isFile() && st.ino === this.#ino && st.size === this.#offset) return false;
      if (st.ino !== this.#ino) this.#release();
    }
    let fd = this.#fd;
    if (fd === null && (fd = await this.#open()) === null) return false;
    let changed = false;
    try {
      if (named && this.#sniffed && !this.#skipped) {
        // Named by a notification as written, on the descriptor kept from the last read: read on
        // from the offset. Only a read that finds nothing asks fstat whether the file was cut.
        const bytesRead = await readFd(fd, slice, slice.length, this.#offset);
        if (bytesRead > 0) {
          this.#take(slice.subarray(0, bytesRead));
          this.behind = bytesRead === slice.length;
          return true;
        }
      }
      const st = await fstatFd(fd);
      if (!st.isFile()) {
        this.#skip('special', 'not a regular file');
        return false;
      }
      if (st.size < this.#offset || (this.#ino !== null && st.ino !== this.#ino)) {
        this.#restart();
        changed = true;
      }
      this.#ino = st.ino;
      if (this.#skipped) return changed;
      const end = toEnd ? st.size : Math.min(st.size, this.#offset + slice.length);
      this.behind = end < st.size;
      while (this.#offset < end) {
        const bytesRead = await readFd(fd, slice, Math.min(slice.length, end - this.#offset), this.#offset);
        if (bytesRead === 0) break;
        changed = true;
        if (!this.#take(slice.subarray(0, bytesRead))) return changed;
        if (between) await between();
      }
    } catch (error) {
      this.#readError(error);
      this.#release(fd);
      fd = null;
    } finally {
      if (fd !== null) this.#keep(fd);
    }
    return changed;
  }

  /** Whether this tail read the file with this inode: the one it follows, or the last one gone from its name. */
  hadInode(ino: number): boolean {
    return this.#ino === ino || this.#lost?.ino === ino;
  }

  /**
   * Carries on where `previous` stopped reading the file `ino`: the same file, moved (Harbor files a
   * step's agent/ and verifier/ under steps/<name>/ once the step ends), so its lines are not sent
   * again. `previous` then reads whatever appears under its name from the start.
   */
  continueFrom(previous: FileTail, ino: number): void {
    const from =
      previous.#ino === ino ? { ino, offset: previous.#offset, sniffed: previous.#sniffed, skipped: previous.#skipped } : previous.#lost;
    if (!from || from.ino !== ino) return;
    this.#ino = from.ino;
    this.#offset = from.offset;
    this.#sniffed = from.sniffed;
    this.#skipped = from.skipped;
    if (previous.#ino === ino) {
      previous.#release();
      previous.#restart();
      previous.#ino = null;
    }
    previous.#lost = null;
  }

  /** Hands on bytes read at the offset; false when the file's first bytes show it is binary (skipped). */
  #take(bytes: Buffer): boolean {
    if (!this.#sniffed) {
      this.#sniffed = true;
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
        this.#skip('binary', 'binary');
        return false;
      }
    }
    this.#offset += bytes.length;
    this.#splitter.push(this.#decoder.write(bytes));
    return true;
  }

  /** Emits the partial last line and lets go of the descriptor (at stop, or before the file is forgotten). */
  close(): void {
    this.#end();
    this.#release();
  }

  /** Emits the partial last line. */
  #end(): void {
    const rest = this.#decoder.end();
    if (rest) this.#splitter.push(rest);
    this.#splitter.end();
  }

  /** The file was rewritten (shrank, or is another inode): flush what was held and start over at 0. */
  #restart(): void {
    this.#end();
    this.#decoder = new StringDecoder('utf8');
    this.#offset = 0;
    this.#sniffed = false;
    this.#skipped = null;
  }

  async #open(): Promise<number | null> {
    try {
      return await openPath(this.abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      if (code === 'ELOOP') this.#skip('symlink', 'a symbolic link');
      else this.#readError(error);
      return null;
    }
  }

  /** Keeps `fd` for the next poll if the budget allows, else closes it. */
  #keep(fd: number): void {
    if (this.#fd === fd) return;
    const budget = this.#openFiles;
    if (budget && budget.open < budget.max && !this.#skipped) {
      budget.open += 1;
      this.#fd = fd;
    } else {
      closeFd(fd);
    }
  }

  /** Closes `fd`, or the kept descriptor. */
  #release(fd: number | null = this.#fd): void {
    if (fd === null) return;
    if (fd === this.#fd) {
      this.#fd = null;
      if (this.#openFiles) this.#openFiles.open -= 1;
    }
    closeFd(fd);
  }

  #skip(kind: string, why: string): void {
    if (this.#skipped === kind) return;
    this.#skipped = kind;
    this.#sink.notice(`not tailing ${this.file}: ${why}`);
  }

  #readError(error: unknown): void {
    if (this.#errorNoted) return;
    this.#errorNoted = true;
    this.#sink.notice(`cannot read ${this.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/**
 * agent/trajectory.json (or a continuation), rewritten whole after every step and not atomically:
 * re-read when its size or mtime changes, parsed, retried at the next poll on a parse error.
 */
export class TrajectoryTail {
  readonly abs: string;
  readonly file: string;
  readonly #emit: (text: string) => void;
  readonly #notice: (text: string) => void;
  readonly #scrub: (text: string) => string;
  #progress: TrajectoryProgress | null = null;
  /** The stat signature of the last version handled (summarised, too large or given up on). */
  #handled: string | null = null;
  #failed: { signature: string; count: number } | null = null;
  #tooLargeNoted = false;
  #errorNoted = false;

  constructor(abs: string, file: string, scrub: (text: string) => string, emit: (text: string) => void, notice: (text: string) => void) {
    this.abs = abs;
    this.file = file;
    this.#scrub = scrub;
    this.#emit = emit;
    this.#notice = notice;
  }

  /** Whether the version last handled is the file with this inode. */
  hadInode(ino: number): boolean {
    return this.#handled !== null && Number(this.#handled.split(':')[0]) === ino;
  }

  /** Carries on from the same trajectory under its old name (moved into steps/<name>/agent/): its steps are not summarised again. */
  continueFrom(previous: TrajectoryTail): void {
    this.#progress = previous.#progress;
    this.#handled = previous.#handled;
  }

  /** `reported`: a change notification named the file. True when a version not handled before was read. */
  async poll(reported = false): Promise<boolean> {
    if (!reported) {
      // Most polls find the version already handled: one lstat answers that without opening the file.
      const seen = await lstat(this.abs).catch(() => null);
      if (!seen || (seen.isFile() && `${seen.ino}:${seen.size}:${seen.mtimeMs}` === this.#handled)) return false;
    }
    let fd: number;
    try {
      fd = await openPath(this.abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.#readError(error);
      return false;
    }
    try {
      const st = await fstatFd(fd);
      if (!st.isFile()) return false;
      const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (signature === this.#handled) return false;
      if (st.size > MAX_TRAJECTORY_BYTES) {
        this.#handled = signature;
        if (!this.#tooLargeNoted) this.#notice(`not summarising ${this.file}: larger than ${MAX_TRAJECTORY_BYTES} bytes`);
        this.#tooLargeNoted = true;
        return true;
      }
      // Read at most the size seen: a file growing meanwhile reads short, fails to parse, and is retried.
      const bytes = Buffer.allocUnsafe(st.size);
      let filled = 0;
      while (filled < st.size) {
        const bytesRead = await readFd(fd, bytes.subarray(filled), st.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      let doc: unknown;
      try {
        doc = JSON.parse(bytes.toString('utf8', 0, filled));
      } catch {
        // Half-written: try again at the next poll, but not forever for a version that never changes.
        this.#failed = this.#failed?.signature === signature ? { signature, count: this.#failed.count + 1 } : { signature, count: 1 };
        if (this.#failed.count >= MAX_PARSE_RETRIES) this.#handled = signature;
        return true;
      }
      this.#handled = signature;
      this.#failed = null;
      const { lines, progress } = summariseTrajectory(doc, this.#progress, this.#scrub);
      this.#progress = progress;
      for (const line of lines) this.#emit(line);
      return true;
    } catch (error) {
      this.#readError(error);
      return false;
    } finally {
      closeFd(fd);
    }
  }

  #readError(error: unknown): void {
    if (this.#errorNoted) return;
    this.#errorNoted = true;
    this.#notice(`cannot read ${this.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

export type TrialFile = { file: string; source: LogSource; kind: 'text' | 'trajectory' };

/** What a trial directory holds worth tailing, and the folders to watch for more. */
export interface TrialListing {
  files: TrialFile[];
  /** Folders that exist, relative to the trial directory ('' is the trial directory itself). */
  dirs: string[];
  /** The agent keeps a log of its own (agent/<name>.txt): agent/sessions/ is left out of `files`. */
  agentOwnLog: boolean;
}

/** The trial's own files (harbor-contract §4), tailed once they exist. */
const TRIAL_LOG = TRIAL_FILES.trialLog;
const TEST_STDOUT = baseName(TRIAL_FILES.testStdout);
const PANE = baseName(TRIAL_FILES.pane);

/** Directories under agent/ whose text files installed agents write (contract §4). */
const AGENT_SUBDIRS = ['setup', 'sessions'];
/**
 * agent/sessions/ repeats, as the agent's own session files, the events its log agent/<name>.txt
 * already carries (claude-code's stream-json lines, codex's --json events): tailed only while the
 * agent keeps no such log, so the live log shows each event once. The files stay downloadable.
 */
const SESSIONS = 'sessions';
/** agent/*.txt files that are not the agent's own log: the oracle's exit code of solve.sh. */
const NOT_AN_AGENT_LOG = new Set(['exit-code.txt']);

/** The asciicast recording duplicates the pane with timing and JSON escaping: never tailed. */
const RECORDING = baseName(TRIAL_FILES.recording);

/** Bounds on walking agent/setup and agent/sessions, which the agent controls. */
const MAX_WALK_DEPTH = 6;
const MAX_WALK_ENTRIES = 2000;
/** Folders listed for watching per trial: the agent could make thousands. */
const MAX_DIRS = 32;

/** Step folders listed per trial (a multi-step task's steps/<name>/). */
const MAX_STEPS = 20;

/**
 * Files worth tailing in a trial directory, paths relative to it with '/' separators: its own
 * folders, and a multi-step trial's steps/<name>/agent and verifier, where Harbor files each step's.
 * `ownLogExpected`: the agent is known to keep a log of its own (keepsOwnAgentLog), so its
 * sessions/ are never tailed, even before that log appears.
 */
export async function listTrialFiles(trialDir: string, ownLogExpected = false): Promise<TrialListing> {
  const found: TrialListing = { files: [], dirs: [], agentOwnLog: ownLogExpected };
  const top = await entries(trialDir);
  if (top === null) return found;
  found.dirs.push('');
  // Whatever their type: the tail says why a symbolic link or a FIFO under these names is not read.
  if (top.some((e) => e.name === TRIAL_LOG)) found.files.push({ file: TRIAL_LOG, source: 'trial', kind: 'text' });
  found.agentOwnLog = (await listPhaseFolders(trialDir, '', found, ownLogExpected)) || ownLogExpected;
  if (!top.some((e) => e.isDirectory() && e.name === STEPS_DIR)) return found;
  const steps = await entries(path.join(trialDir, STEPS_DIR));
  if (steps === null) return found;
  found.dirs.push(STEPS_DIR);
  for (const step of steps.filter((e) => e.isDirectory()).slice(0, MAX_STEPS)) {
    if (found.dirs.length < MAX_DIRS) found.dirs.push(stepDir(step.name));
    await listPhaseFolders(trialDir, `${stepDir(step.name)}/`, found, ownLogExpected);
  }
  return found;
}

/** The agent and verifier folders under `prefix` ('' or 'steps/<name>/'); true when the agent keeps a log of its own there. */
async function listPhaseFolders(trialDir: string, prefix: string, found: TrialListing, ownLogExpected: boolean): Promise<boolean> {
  const at = (rel: string) => path.join(trialDir, ...`${prefix}${rel}`.split('/'));
  const verifier = await entries(at(TRIAL_FILES.verifierDir));
  if (verifier !== null) {
    found.dirs.push(`${prefix}${TRIAL_FILES.verifierDir}`);
    if (verifier.some((e) => e.name === TEST_STDOUT)) found.files.push({ file: `${prefix}${TRIAL_FILES.testStdout}`, source: 'verifier', kind: 'text' });
  }
  const agent = await entries(at(TRIAL_FILES.agentDir));
  if (agent === null) return false;
  found.dirs.push(`${prefix}${TRIAL_FILES.agentDir}`);
  const ownLog = ownLogExpected || agent.some((e) => e.isFile() && e.name.endsWith('.txt') && !NOT_AN_AGENT_LOG.has(e.name));
  for (const entry of agent) {
    if (!entry.isFile() || entry.name === RECORDING) continue;
    if (TRAJECTORY_FILE.test(entry.name)) found.files.push({ file: `${prefix}agent/${entry.name}`, source: 'agent', kind: 'trajectory' });
    else if (entry.name === PANE || /\.(?:txt|log)$/.test(entry.name)) {
      found.files.push({ file: `${prefix}agent/${entry.name}`, source: 'agent', kind: 'text' });
    }
  }
  const budget = { entries: MAX_WALK_ENTRIES };
  for (const sub of AGENT_SUBDIRS) {
    if (sub === SESSIONS && ownLog) continue;
    if (agent.some((e) => e.isDirectory() && e.name === sub)) await walk(trialDir, `${prefix}agent/${sub}`, 0, budget, found);
  }
  return ownLog;
}

async function walk(root: string, rel: string, depth: number, budget: { entries: number }, found: TrialListing): Promise<void> {
  const list = await entries(path.join(root, rel));
  if (list === null) return;
  if (found.dirs.length < MAX_DIRS) found.dirs.push(rel);
  for (const entry of list) {
    if (--budget.entries < 0) return;
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory() && depth < MAX_WALK_DEPTH) await walk(root, child, depth + 1, budget, found);
    else if (entry.isFile() && entry.name !== RECORDING) found.files.push({ file: child, source: 'agent', kind: 'text' });
  }
}

/** Sorted directory entries; null when the directory is missing or unreadable. */
async function entries(dir: string): Promise<Dirent[] | null> {
  try {
    return (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return null;
  }
}
