// Captures a trial's logs while Harbor runs: Harbor's own output, the files it writes into the
// job and trial directories (harbor-contract.md §4), a summary line per trajectory step (§9) and
// the runner's own notes. Every complete line is scrubbed of secrets, then buffered, and the buffer
// is cut into size-capped chunks published one after another: at once when lines arrive after a
// quiet spell (at the end of the read pass that found them), else at most once per flushMs.
// Nothing here ever fails the run: publish errors are counted, an overflowing buffer drops its
// oldest lines and says so, read errors become one 'runner' line per file.
//
// Chunks: a chunk's text (the sum of its lines' UTF-8 text bytes) never exceeds maxChunkBytes,
// except a chunk holding one single line that alone is larger (a line is never split across
// chunks; lines are capped at MAX_LINE_BYTES anyway). At most MAX_LINES_PER_CHUNK lines per chunk.
// `seq` is taken by every chunk handed to publish, so a failed chunk leaves a gap a reader sees.
import { watch, type FSWatcher } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { PROTOCOL_VERSION, type LogChunk } from '../protocol/messages.js';
import { LineBuffer, type LogLine } from './buffer.js';
import { createScrubber, type Replacement } from '../secrets/scrub.js';
import { finishLine, LineSplitter, MAX_LINE_BYTES } from './lines.js';
import { findTrialDir, movedFrom, TRIAL_FILES } from '../protocol/layout.js';
import { FileTail, listTrialFiles, OpenFiles, SLICE_BYTES, TrajectoryTail, type LogSource, type TailSink } from './tail.js';

export { MAX_LINE_BYTES } from './lines.js';
export { REDACTED } from '../secrets/scrub.js';
export { MAX_LINES_PER_CHUNK } from './buffer.js';

export interface LogCaptureOptions {
  runId: string;
  /** The Harbor job directory; the trial directory is its only subdirectory and appears later (or never). */
  jobDir: string;
  /** Publishes one chunk; may reject (counted as failed, never thrown). Called sequentially, never concurrently for one capture. */
  publish: (chunk: LogChunk) => Promise<void>;
  /** Called once the trial directory is found (Harbor creates it when the trial gets its slot). */
  onTrialDir?: (trialDir: string) => void;
  /** Secret values to replace by "[REDACTED]" wherever they appear, before anything is published. Empty strings ignored. */
  secrets: string[];
  /** Other texts replaced before publishing: the runner's TASKS_DIR and JOBS_DIR by their placeholders (secrets/host-paths.ts). */
  replacements?: readonly Replacement[];
  /** Least time between two flushes, ms (default 1000): lines wait at most this long once read. */
  flushMs?: number;
  /** A chunk is cut once its lines' text reaches this many bytes (default 64 * 1024). */
  maxChunkBytes?: number;
  /**
   * How often files are polled for growth, ms (default 250), while change notifications are not
   * shown to work; once they are, this safety-net poll backs off to every few seconds.
   */
  pollMs?: number;
  /** The agent keeps a log of its own (protocol/layout keepsOwnAgentLog): its agent/sessions/ files are never tailed. */
  agentKeepsOwnLog?: boolean;
  /** Set a watch on the trial's folders and read what the kernel names at once (default true). */
  watch?: boolean;
  /** Upper bound of buffered, unpublished bytes; beyond it the oldest lines are dropped and counted (default 8 MiB). */
  maxBufferedBytes?: number;
  now?: () => Date;
}

/**
 * chunks / lines: published successfully. failedChunks: publish rejected (the chunk is dropped).
 * droppedLines: dropped because the buffer overflowed while the publisher lagged. safetyPolls:
 * periodic passes over every file (not counting passes woken by a change notification).
 */
export interface LogCaptureStats { chunks: number; lines: number; failedChunks: number; droppedLines: number; safetyPolls: number }

export interface LogCapture {
  /** Harbor's own stdout/stderr bytes (source 'harbor'); partial lines are held until a newline or stop(). */
  harborOutput(bytes: Buffer | string): void;
  /** A line from the runner itself (source 'runner'), e.g. "Harbor exited with status 1". */
  note(text: string): void;
  /** Reads every file to its end one last time, flushes partial lines, publishes what is left, stops timers. */
  stop(): Promise<LogCaptureStats>;
}

const DEFAULT_FLUSH_MS = 1000;
const DEFAULT_MAX_CHUNK_BYTES = 64 * 1024;
const DEFAULT_POLL_MS = 250;
/** After a change is seen, wait this long so a burst of writes is read in one pass. */
const WAKE_DELAY_MS = 20;
/**
 * The safety-net poll doubles its interval up to this while every change it finds had been
 * named by a notification; one change that was not sends it back to pollMs. At 200 trials per
 * machine, stat-ing every file every pollMs was most of an idle runner's work.
 */
const MAX_SAFETY_POLL_MS = 4_000;
/** Looking for new files without a notification naming one: at most this often. */
const DISCOVERY_MS = 1_000;
const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Tailed files per capture: agent/ and its subdirectories are written by the agent, which could make thousands. */
const MAX_TAILED_FILES = 200;
/** Descriptors a capture keeps open between reads (the pane, trial.log, job.log and a few more). */
const MAX_OPEN_FILES = 8;
/** The `file` field's limit in logChunkSchema. */
const MAX_FILE_FIELD = 300;

export function startLogCapture(options: LogCaptureOptions): LogCapture {
  const { runId, jobDir, publish } = options;
  const flushMs = positive(options.flushMs, DEFAULT_FLUSH_MS);
  const pollMs = positive(options.pollMs, DEFAULT_POLL_MS);
  const watching = options.watch ?? true;
  const maxChunkBytes = positive(options.maxChunkBytes, DEFAULT_MAX_CHUNK_BYTES);
  const maxBufferedBytes = positive(options.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES);
  const now = options.now ?? (() => new Date());
  const scrubber = createScrubber(options.secrets, options.replacements);
  const scrub = scrubber.scrub;
  // A held partial line keeps this much, so a secret starting before the cap is still whole when scrubbed.
  const keepChars = MAX_LINE_BYTES + scrubber.longest;

  const stats: LogCaptureStats = { chunks: 0, lines: 0, failedChunks: 0, droppedLines: 0, safetyPolls: 0 };
  const buffer = new LineBuffer({
    maxChunkBytes,
    maxBufferedBytes,
    dropNotice: (count) => ({
      source: 'runner',
      text: `${count} log line${count === 1 ? '' : 's'} dropped: publishing fell behind (buffer limit ${maxBufferedBytes} bytes)`,
      at: now().toISOString(),
    }),
  });
  /** False once stop() has published the last lines: later calls are ignored. */
  let accepting = true;
  let stopping = false;
  let stopped: Promise<LogCaptureStats> | null = null;

  function pushLine(source: LogSource, file: string | undefined, head: string, droppedBytes: number): void {
    if (!accepting) return;
    const text = finishLine(head, droppedBytes, scrub);
    const line: LogLine = file === undefined ? { source, text, at: now().toISOString() } : { source, file, text, at: now().toISOString() };
    buffer.push(line);
    requestFlush();
  }

  function noteLines(text: string): void {
    for (const part of text.split('\n')) pushLine('runner', undefined, part, 0);
  }

  const sink: TailSink = {
    line: (source, file, head, droppedBytes) => pushLine(source, file, head, droppedBytes),
    notice: (text) => noteLines(text),
  };

  // --- Harbor's stdout/stderr -------------------------------------------------------------------
  const harborDecoder = new StringDecoder('utf8');
  const harborSplitter = new LineSplitter(keepChars, (head, dropped) => pushLine('harbor', undefined, head, dropped));

  // --- Files ------------------------------------------------------------------------------------
  const slice = Buffer.allocUnsafe(SLICE_BYTES);
  const openFiles = new OpenFiles(MAX_OPEN_FILES);
  const jobLog = new FileTail(path.join(jobDir, 'job.log'), 'job.log', 'harbor', sink, keepChars, openFiles);
  let trialName: string | null = null;
  let tails = new Map<string, FileTail>();
  let trajectories = new Map<string, TrajectoryTail>();
  /**
   * Changed paths a discovery pass found nothing to tail in (recording.cast, result.json, reward
   * files): their writes must not trigger a discovery each time, which at 50 captures per runner
   * cost more than the reading itself.
   */
  let ignored = new Set<string>();
  let capNoted = false;

  /** Paths the watchers reported changed since the last pass; `null` in it: one reported no name. */
  let changed = new Set<string | null>();
  /** Of those, the ones reported created, renamed or deleted rather than written. */
  let renamed = new Set<string>();
  let lastFullPass = 0;
  let lastDiscovery = 0;
  /** The safety-net poll's current interval: pollMs, doubling while the watchers miss nothing. */
  let safetyPollMs = pollMs;
  /**
   * One pass. A full one (the safety net, and with `toEnd`) reads every file; with `toEnd` each
   * to its current end, draining between slices. A pass woken by the watchers reads only the files
   * they named: at 50 captures per runner, checking every file on every change was most of the
   * runner's work.
   */
  async function pollOnce(toEnd: boolean, woken = false): Promise<void> {
    const between = toEnd ? drainIfLarge : undefined;
    const seen = changed;
    const seenRenamed = renamed;
    changed = new Set();
    renamed = new Set();
    const full = toEnd || !woken || seen.has(null);
    const safetyNet = !toEnd && !woken;
    if (full) lastFullPass = Date.now();
    if (safetyNet) stats.safetyPolls += 1;
    let all = full;
    const due = (abs: string) => all || seen.has(abs);
    /** Files this pass found changed: were they all named by a notification? */
    const found: string[] = [];
    const pollTail = async (tail: FileTail) => {
      if (await tail.poll(slice, toEnd, between, seen.has(tail.abs), seenRenamed.has(tail.abs))) found.push(tail.abs);
      // The rest of a large append is read by the next pass, whatever woke it.
      if (tail.behind) changed.add(tail.abs);
    };
    if (due(jobLog.abs)) await pollTail(jobLog);
    // New files are rare once the trial runs: look for them when a watcher names a file not tailed
    // yet, and now and then besides.
    const untailed = (abs: string | null): abs is string =>
      abs !== null && abs !== jobLog.abs && !tails.has(relative(abs)) && !trajectories.has(relative(abs));
    // A name created or removed again (a folder made anew by a Harbor retry) is looked at even if ignored.
    const unknown = [...seen].some((abs) => untailed(abs) && (seenRenamed.has(abs) || !ignored.has(abs)));
    if (toEnd || trialName === null || unknown || (full && Date.now() - lastDiscovery >= DISCOVERY_MS)) {
      lastDiscovery = Date.now();
      const watchedBefore = watchesSet;
      found.push(...(await discoverFiles()));
      // A folder watched anew (made again by a Harbor retry): what was written in it before the
      // watch was set is read now, not at the next safety-net pass.
      if (watchesSet !== watchedBefore) all = true;
      for (const abs of seen) if (untailed(abs)) ignored.add(abs);
    }
    for (const tail of tails.values()) if (due(tail.abs)) await pollTail(tail);
    for (const trajectory of trajectories.values()) {
      if (due(trajectory.abs) && (await trajectory.poll(seen.has(trajectory.abs)))) found.push(trajectory.abs);
    }
    if (safetyNet) {
      // Checked after the whole pass, so a notification of a write the pass raced is in by now.
      const missed = !watching || found.some((abs) => !seen.has(abs) && !changed.has(abs));
      safetyPollMs = missed ? pollMs : Math.min(safetyPollMs * 2, Math.max(pollMs, MAX_SAFETY_POLL_MS));
    }
  }

  /** A watched path as the key of `tails` (relative to the trial directory, '/' separators). */
  function relative(abs: string | null): string {
    if (abs === null || trialName === null) return '';
    return path.relative(path.join(jobDir, trialName), abs).split(path.sep).join('/');
  }

  /** Finds the trial directory and the files in it worth tailing; returns the new files' paths. */
  async function discoverFiles(): Promise<string[]> {
    watchDir(jobDir);
    const name = await findTrialDir(jobDir);
    if (name !== null && name !== trialName) {
      // Another trial directory: forget the old one's files. One that vanishes and comes back
      // under the same name (a Harbor retry) keeps its tails, which restart on the new inodes; a
      // directory listing that fails for a moment must not make every file be read again.
      for (const tail of tails.values()) tail.close();
      tails = new Map();
      trajectories = new Map();
      ignored = new Set();
      trialName = name;
      options.onTrialDir?.(path.join(jobDir, name));
    }
    if (trialName === null) return [];
    const trialDir = path.join(jobDir, trialName);
    // A folder is watched before it is listed, so a file made in between is named by the watch.
    for (const dir of [trialDir, path.join(trialDir, TRIAL_FILES.agentDir), path.join(trialDir, TRIAL_FILES.verifierDir)]) watchDir(dir);
    let listing = await listTrialFiles(trialDir, options.agentKeepsOwnLog);
    const unwatched = listing.dirs.map((dir) => path.join(trialDir, ...dir.split('/').filter(Boolean))).filter((abs) => !watchers.has(abs));
    for (const dir of unwatched) watchDir(dir);
    // Subfolders found by this listing: list again now that they are watched.
    if (unwatched.some((dir) => watchers.has(dir))) listing = await listTrialFiles(trialDir, options.agentKeepsOwnLog);
    // The agent's own log appeared after its session files were found: they repeat it, stop tailing them.
    if (listing.agentOwnLog) {
      for (const [file, tail] of tails) {
        if (file.startsWith(`${TRIAL_FILES.agentDir}/sessions/`)) {
          tail.close();
          tails.delete(file);
        }
      }
    }
    const added: string[] = [];
    for (const found of listing.files) {
      if (tails.has(found.file) || trajectories.has(found.file)) continue;
      if (tails.size + trajectories.size >= MAX_TAILED_FILES) {
        if (!capNoted) noteLines(`not tailing more than ${MAX_TAILED_FILES} files; ${fileField(found.file)} and later ones are skipped`);
        capNoted = true;
        break;
      }
      const abs = path.join(trialDir, ...found.file.split('/'));
      const file = fileField(found.file);
      if (found.kind === 'trajectory') {
        const tail = new TrajectoryTail(abs, file, scrub, (text) => pushLine('agent', file, text, 0), noteLines);
        trajectories.set(found.file, tail);
        await continueMoved(found.file, abs, trajectories, tail);
      } else {
        const tail = new FileTail(abs, file, found.source, sink, keepChars, openFiles);
        tails.set(found.file, tail);
        await continueMoved(found.file, abs, tails, tail);
      }
      added.push(abs);
    }
    return added;
  }

  /**
   * A step's file that is one already tailed under the trial's own folder, moved there when the
   * step ended (same inode, before or after that tail noticed): read on from where that tail
   * stopped, under the step's name, rather than from the start again.
   */
  async function continueMoved<T extends FileTail | TrajectoryTail>(rel: string, abs: string, map: Map<string, T>, tail: T): Promise<void> {
    const rootRel = movedFrom(rel);
    const previous = rootRel === null ? undefined : map.get(rootRel);
    if (!previous) return;
    const st = await lstat(abs).catch(() => null);
    if (!st || !previous.hadInode(st.ino)) return;
    if (tail instanceof FileTail && previous instanceof FileTail) tail.continueFrom(previous, st.ino);
    else if (tail instanceof TrajectoryTail && previous instanceof TrajectoryTail) tail.continueFrom(previous);
  }

  /** The `file` field: scrubbed (the agent names its files) and within the schema's 300 characters. */
  function fileField(rel: string): string {
    const scrubbed = scrub(rel);
    return scrubbed.length <= MAX_FILE_FIELD ? scrubbed : `…${scrubbed.slice(scrubbed.length - MAX_FILE_FIELD + 1)}`;
  }

  let pollTimer: NodeJS.Timeout | null = null;
  let polling: Promise<void> | null = null;
  let pollErrorNoted = false;

  let wakePending = false;
  /** The pending pollTimer is a woken pass: further changes wait for it rather than push it back. */
  let wakeScheduled = false;

  function schedulePoll(delay: number, woken: boolean): void {
    wakeScheduled = woken;
    pollTimer = setTimeout(() => {
      pollTimer = null;
      wakeScheduled = false;
      wakePending = false;
      polling = pollOnce(false, woken)
        .catch(pollFailed)
        .finally(() => {
          polling = null;
          if (flushAfterPoll) {
            flushAfterPoll = false;
            startFlush();
          }
          if (!accepting || stopping) return;
          // Woken passes do not put the safety net off.
          if (wakePending) schedulePoll(WAKE_DELAY_MS, true);
          else schedulePoll(Math.max(0, lastFullPass + safetyPollMs - Date.now()), false);
        });
    }, delay);
    pollTimer.unref();
  }

  // The kernel says when a watched folder changes (inotify): read at once instead of at the next
  // tick. Polling stays as the safety net for changes a watcher misses.
  const watchers = new Map<string, FSWatcher>();
  /** Watches set so far (a count, so a pass can tell that one was set meanwhile). */
  let watchesSet = 0;
  function watchDir(dir: string): void {
    if (!watching || watchers.has(dir) || stopping) return;
    try {
      const base = path.basename(dir);
      const watcher = watch(dir, { persistent: false }, (event, name) => {
        // Without a name of its own the event is about the folder itself (inotify's IN_DELETE_SELF,
        // IN_MOVE_SELF), named by its own basename: the watch is dead; discovery watches the
        // folder again if it is made anew.
        if (event === 'rename' && name?.toString() === base) {
          watcher.close();
          watchers.delete(dir);
        }
        wake(name ? path.join(dir, name.toString()) : null, event === 'rename');
      });
      watcher.on('error', () => {
        watcher.close();
        watchers.delete(dir);
      });
      watchers.set(dir, watcher);
      watchesSet += 1;
    } catch {
      // Not there yet, or no watcher available: the periodic poll reads it.
    }
  }
  function wake(abs: string | null, rename: boolean): void {
    if (!accepting || stopping) return;
    changed.add(abs);
    if (rename && abs !== null) renamed.add(abs);
    if (polling) {
      wakePending = true;
      return;
    }
    if (wakeScheduled) return;
    if (pollTimer) clearTimeout(pollTimer);
    schedulePoll(WAKE_DELAY_MS, true);
  }

  function pollFailed(error: unknown): void {
    if (pollErrorNoted) return;
    pollErrorNoted = true;
    noteLines(`log capture: polling failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  // --- Publishing -------------------------------------------------------------------------------
  let seq = 0;
  let draining: Promise<void> | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  let lastFlush = Number.NEGATIVE_INFINITY;
  /** A flush came due during a read pass: it waits for the pass, so one pass makes one chunk. */
  let flushAfterPoll = false;

  // Lines after a quiet spell go out at once; a steady writer gets one chunk per flushMs. A fixed
  // ticker instead made every line wait for the next tick, half an interval on average.
  function requestFlush(): void {
    if (flushTimer || flushAfterPoll || stopping) return;
    flushTimer = setTimeout(
      () => {
        flushTimer = null;
        if (polling) flushAfterPoll = true;
        else startFlush();
      },
      Math.max(0, lastFlush + flushMs - Date.now()),
    );
    flushTimer.unref();
  }

  function startFlush(): void {
    if (stopping) return;
    lastFlush = Date.now();
    void flush(false).finally(() => {
      // Lines that arrived while chunks were in flight.
      if (buffer.length > 0) requestFlush();
    });
  }

  /**
   * Publishes what is due: at a tick, every line buffered by then, plus full chunks that arrive
   * meanwhile; with `all`, everything until the buffer is empty. Never runs twice at once, so
   * chunks reach publish one at a time, in seq order.
   */
  async function flush(all: boolean): Promise<void> {
    if (draining) {
      if (!all) return;
      while (draining) await draining;
    }
    const upTo = all ? Number.POSITIVE_INFINITY : buffer.mark();
    draining = (async () => {
      for (let lines = buffer.cut(upTo); lines; lines = buffer.cut(upTo)) {
        seq += 1;
        const chunk: LogChunk = { v: PROTOCOL_VERSION, runId, seq, lines };
        try {
          await publish(chunk);
          stats.chunks += 1;
          stats.lines += lines.length;
        } catch {
          // Dropped, not retried: the transport has its own retries; a reader sees the seq gap.
          stats.failedChunks += 1;
        }
      }
    })().finally(() => {
      draining = null;
    });
    await draining;
  }

  /** During the final read, a large file must not overflow the buffer: publish as we go. */
  async function drainIfLarge(): Promise<void> {
    if (buffer.bytes >= maxBufferedBytes / 2) await flush(true);
  }

  // --- Lifecycle --------------------------------------------------------------------------------
  async function finish(): Promise<LogCaptureStats> {
    stopping = true;
    for (const watcher of watchers.values()) watcher.close();
    watchers.clear();
    if (pollTimer) clearTimeout(pollTimer);
    if (flushTimer) clearTimeout(flushTimer);
    pollTimer = flushTimer = null;
    while (polling) await polling;
    await pollOnce(true).catch(pollFailed);
    for (const tail of tails.values()) tail.close();
    jobLog.close();
    const rest = harborDecoder.end();
    if (rest) harborSplitter.push(rest);
    harborSplitter.end();
    await flush(true);
    accepting = false;
    // Anything noted while the last chunks were in flight.
    await flush(true);
    stats.droppedLines = buffer.droppedLines;
    return { ...stats };
  }

  watchDir(jobDir);
  schedulePoll(pollMs, false);

  return {
    harborOutput(bytes) {
      if (!accepting) return;
      harborSplitter.push(typeof bytes === 'string' ? bytes : harborDecoder.write(bytes));
    },
    note(text) {
      if (!accepting) return;
      noteLines(text);
    },
    stop() {
      stopped ??= finish();
      return stopped;
    },
  };
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
