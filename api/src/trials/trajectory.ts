// Reads a run's trajectory on demand from its trial directory: agent/trajectory.json, then the
// continuation files it links to (trajectory.cont-N.json after a summarisation), and the names of
// the summarisation sub-trajectories beside it (trajectory.summarization-N-<kind>.json), each
// readable on its own. Nothing is stored: the file is the truth while the agent runs, and a page
// re-reads it when the log says it changed.
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { baseName, TRIAL_FILES } from 'runner/protocol';
import {
  joinFiles,
  parseTrajectoryDocument,
  rawTrajectory,
  salvageTruncated,
  SUB_TRAJECTORY,
  type ParsedFile,
  type SubTrajectoryFile,
  type Trajectory,
} from './atif.js';

/**
 * Larger files are not parsed: token-id arrays and logprobs of a long run can reach tens of MB,
 * and parsing that in the API process would stall every other request for a second or more.
 */
export const MAX_TRAJECTORY_BYTES = 48 * 1024 * 1024;
/** Continuation files followed: terminus-2 summarises a handful of times in the longest runs. */
const MAX_CONTINUATIONS = 50;
/** The writer truncates, writes half, pauses, writes the rest: one short wait covers the pause. */
const RETRY_MS = 150;

const CONTINUATION = /^trajectory\.cont-\d+\.json$/;
export const TRAJECTORY_PATH = TRIAL_FILES.trajectory;

export interface ReadOptions {
  retryMs?: number;
  /** Applied to each file's text before it is parsed: the run's provider keys out (trials/secrets.ts). */
  scrub?: (text: string) => string;
}

type FileRead =
  | { kind: 'ok'; file: ParsedFile }
  | { kind: 'missing' }
  | { kind: 'too-large'; size: number }
  | { kind: 'truncated'; file: ParsedFile | null }
  | { kind: 'malformed'; reason: string }
  /** Whole JSON, but not ATIF: shown raw. */
  | { kind: 'not-atif'; doc: unknown };

async function readOnce(file: string, scrub: (text: string) => string): Promise<FileRead> {
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return { kind: 'missing' };
  if (info.size > MAX_TRAJECTORY_BYTES) return { kind: 'too-large', size: info.size };
  const raw = await readFile(file, 'utf8').catch(() => null);
  if (raw === null) return { kind: 'missing' };
  // Keys are matched raw and JSON-escaped, each replaced inside its string: the JSON stays valid.
  const text = scrub(raw);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Cut off (mid-write or by a crash) when what is there is the start of a document.
    if (text.trim() === '' || isPrefixOfJson(text)) {
      const salvaged = salvageTruncated(text);
      return { kind: 'truncated', file: salvaged === null ? null : safeDocument(salvaged) };
    }
    return { kind: 'malformed', reason: 'it is not valid JSON' };
  }
  try {
    return { kind: 'ok', file: parseTrajectoryDocument(doc) };
  } catch {
    return { kind: 'not-atif', doc };
  }
}

function safeDocument(doc: unknown): ParsedFile | null {
  try {
    return parseTrajectoryDocument(doc);
  } catch {
    return null;
  }
}

/** True when the text could be the beginning of a JSON document that was cut off. */
function isPrefixOfJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch (error) {
    // V8 says "Unexpected end of JSON input" or "Unterminated string" (or "… is not valid JSON" with
    // an offset at the very end) for a document that ends too early.
    const message = (error as Error).message;
    return /end of JSON input|Unterminated string/i.test(message) || endsAt(message, text.length);
  }
}

function endsAt(message: string, length: number): boolean {
  const m = /position (\d+)/.exec(message);
  return m !== null && Number(m[1]) >= length - 1;
}

/** Reads one file; a half-written one (the writer is not atomic) is read once more after a pause. */
async function readWithRetry(file: string, options: Required<ReadOptions>): Promise<FileRead> {
  const first = await readOnce(file, options.scrub);
  if (first.kind !== 'truncated' && first.kind !== 'malformed' && first.kind !== 'not-atif') return first;
  await new Promise((resolve) => setTimeout(resolve, options.retryMs));
  return readOnce(file, options.scrub);
}

function describe(read: Exclude<FileRead, { kind: 'ok' }>, name: string): string {
  switch (read.kind) {
    case 'not-atif':
      return `${name} could not be read: it is not an ATIF trajectory (no "steps" list).`;
    case 'missing':
      return `${name} is missing.`;
    case 'too-large':
      return `${name} is ${(read.size / 1024 / 1024).toFixed(0)} MB, more than the ${MAX_TRAJECTORY_BYTES / 1024 / 1024} MB that are read; download it from the trial's files.`;
    case 'truncated':
      return read.file && read.file.steps.length
        ? `${name} is truncated: showing the ${read.file.steps.length} complete step(s) before the cut.`
        : `${name} is truncated before its first complete step.`;
    case 'malformed':
      return `${name} could not be read: ${read.reason}.`;
  }
}

/**
 * The trajectory in a trial directory. `dir` null (no trial yet) and a missing file give empty
 * steps and a note; so do malformed files. Never throws for what is in the files.
 */
export async function readTrajectory(dir: string | null, options: ReadOptions = {}): Promise<Trajectory> {
  const empty = (note: string): Trajectory => ({ ...joinFiles([], []), note });
  if (!dir) return empty('The run has no trial directory yet: its trajectory appears once the trial starts.');
  const read = { retryMs: options.retryMs ?? RETRY_MS, scrub: options.scrub ?? ((text: string) => text) };
  const agentDir = path.join(dir, TRIAL_FILES.agentDir);
  const first = await readWithRetry(path.join(dir, ...TRAJECTORY_PATH.split('/')), read);
  if (first.kind === 'missing') {
    return empty('This trial has no agent/trajectory.json: the agent does not write one (or has not yet). Its text logs are listed instead.');
  }
  const subTrajectories = await listSubTrajectories(agentDir);
  if (first.kind === 'not-atif') return { ...rawTrajectory(first.doc, TRAJECTORY_PATH), subTrajectories };
  if (first.kind !== 'ok' && !(first.kind === 'truncated' && first.file)) return { ...empty(describe(first, TRAJECTORY_PATH)), subTrajectories };

  const files: ParsedFile[] = [first.file!];
  const notes: string[] = first.kind === 'ok' ? [] : [describe(first, TRAJECTORY_PATH)];
  const seen = new Set<string>([baseName(TRAJECTORY_PATH)]);
  let ref = first.file!.continuedRef;
  while (ref && files.length <= MAX_CONTINUATIONS) {
    // Only sibling continuation files: the reference is written by the agent under test.
    const name = path.basename(ref);
    if (!CONTINUATION.test(name) || seen.has(name)) {
      notes.push(`The continuation "${ref}" is not a trajectory.cont-N.json file next to the trajectory; not followed.`);
      break;
    }
    seen.add(name);
    const next = await readWithRetry(path.join(agentDir, name), read);
    if (next.kind === 'ok' || (next.kind === 'truncated' && next.file)) {
      files.push(next.file!);
      if (next.kind !== 'ok') notes.push(describe(next, `agent/${name}`));
      ref = next.file!.continuedRef;
    } else {
      notes.push(describe(next, `agent/${name}`));
      break;
    }
  }
  return { ...joinFiles(files, notes), subTrajectories };
}

const KIND_ORDER = ['summary', 'questions', 'answers'];

/** The summarisation sub-trajectories in the agent folder: by summarisation, then summary, questions, answers. */
export async function listSubTrajectories(agentDir: string): Promise<SubTrajectoryFile[]> {
  const names = await readdir(agentDir).catch(() => [] as string[]);
  const rank = (kind: string) => (KIND_ORDER.includes(kind) ? KIND_ORDER.indexOf(kind) : KIND_ORDER.length);
  return names
    .map((file) => {
      const m = SUB_TRAJECTORY.exec(file);
      return m ? { file, index: Number(m[1]), kind: m[2]! } : null;
    })
    .filter((f): f is SubTrajectoryFile => f !== null)
    .sort((a, b) => a.index - b.index || rank(a.kind) - rank(b.kind) || (a.kind < b.kind ? -1 : 1))
    .slice(0, 200);
}

/**
 * One summarisation sub-trajectory of a trial, by its file name (only names of that pattern, in the
 * agent folder, are read: the name comes from a client).
 */
export async function readSubTrajectory(dir: string | null, file: string, options: ReadOptions = {}): Promise<Trajectory> {
  const empty = (note: string): Trajectory => ({ ...joinFiles([], []), note });
  if (!SUB_TRAJECTORY.test(file)) return empty(`"${file.slice(0, 100)}" is not a summarisation trajectory name (trajectory.summarization-N-<kind>.json).`);
  if (!dir) return empty('The run has no trial directory yet.');
  const read = { retryMs: options.retryMs ?? RETRY_MS, scrub: options.scrub ?? ((text: string) => text) };
  const result = await readWithRetry(path.join(dir, 'agent', file), read);
  if (result.kind === 'ok') return joinFiles([result.file], []);
  if (result.kind === 'not-atif') return rawTrajectory(result.doc, `agent/${file}`);
  if (result.kind === 'truncated' && result.file) return joinFiles([result.file], [describe(result, `agent/${file}`)]);
  return empty(describe(result, `agent/${file}`));
}
