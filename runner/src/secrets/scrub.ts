// Provider keys replaced by [REDACTED] wherever text leaves the platform: log lines, exception
// messages and heartbeats the runner publishes (strings), trial files the runner rewrites at rest and
// the API serves (bytes, streamed, so a key split across two reads is still found). The same pass can
// put placeholders in place of other literal texts (host paths: `$JOBS_DIR`), so callers need one
// scrubber, not two passes that could disagree on overlaps.
import { PassThrough, Transform } from 'node:stream';

export const REDACTED = '[REDACTED]';

/**
 * Pieces of a multi-line secret (a PEM key, a JSON credential) shorter than this are not scrubbed
 * on their own: "{" or "-----END" would redact half the log and protect nothing.
 */
const MIN_SECRET_PIECE = 8;

export interface Scrubber {
  /** Replaces every occurrence of every secret by [REDACTED]. */
  scrub(text: string): string;
  /** Length in UTF-16 units of the longest needle: how much text past a cut can still hide a secret. */
  readonly longest: number;
  /** Whether there is anything to scrub at all (callers skip the work, and keep sizes exact, without). */
  readonly active: boolean;
  /** A byte stream with every secret replaced; binary content elsewhere passes through unchanged. */
  stream(): Transform;
  /** The bytes with every secret replaced, or null when there was nothing to replace. */
  scrubBytes(bytes: Buffer): Buffer | null;
}

/** A literal text and what stands in its place (e.g. an absolute JOBS_DIR and `$JOBS_DIR`). */
export type Replacement = readonly [text: string, replacement: string];

/**
 * The texts to look for and what replaces each: every secret (or each long line of a multi-line one)
 * and every replaced text, each also in its JSON-escaped form. A secret wins over a replacement of
 * the same text: it must never be shown.
 */
function needlesOf(secrets: readonly string[], replacements: readonly Replacement[]): Map<string, string> {
  const needles = new Map<string, string>();
  const add = (text: string, replacement: string) => {
    needles.set(text, replacement);
    // As it appears inside JSON files (sessions, trajectories, Harbor's config.json).
    needles.set(JSON.stringify(text).slice(1, -1), replacement);
  };
  for (const [text, replacement] of replacements) if (text.trim() !== '') add(text, replacement);
  for (const raw of secrets) {
    const secret = raw.trim();
    if (secret === '') continue;
    const pieces = /[\r\n]/.test(secret)
      ? secret.split(/\r?\n|\r/).map((p) => p.trim()).filter((p) => p.length >= MIN_SECRET_PIECE)
      : [secret];
    for (const piece of pieces) add(piece, REDACTED);
  }
  return needles;
}

/** Longest first: overlapping needles are replaced by the longest match. */
const longestFirst = (texts: Iterable<string>) => [...texts].sort((a, b) => b.length - a.length);

/**
 * One regex alternation, longest needle first, so overlapping secrets are replaced by the longest
 * match in a single pass and a replacement itself is never re-scanned.
 */
export function createScrubber(secrets: readonly string[], replacements: readonly Replacement[] = []): Scrubber {
  const needles = needlesOf(secrets, replacements);
  if (needles.size === 0) {
    return { scrub: (text) => text, longest: 0, active: false, stream: () => new PassThrough(), scrubBytes: () => null };
  }
  const texts = longestFirst(needles.keys());
  const pattern = new RegExp(texts.map(escapeRegExp).join('|'), 'g');
  const replace = (match: string) => needles.get(match)!;
  // Bytes as latin1 text (one character per byte, both ways), so the same regex works on any file
  // without decoding it: a UTF-8 needle becomes its bytes, and what is not a match is copied byte for byte.
  const byteNeedles = new Map<string, string>();
  for (const [text, replacement] of needles) byteNeedles.set(latin1(text), latin1(replacement));
  const byteTexts = longestFirst(byteNeedles.keys());
  const bytePattern = new RegExp(byteTexts.map(escapeRegExp).join('|'), 'g');
  const byteReplace = (match: string) => byteNeedles.get(match)!;
  const longestBytes = byteTexts[0]!.length;
  return {
    scrub: (text) => (text === '' ? text : text.replace(pattern, replace)),
    longest: texts[0]!.length,
    active: true,
    stream: () => scrubbingStream(bytePattern, byteReplace, longestBytes),
    scrubBytes: (bytes) => {
      const text = bytes.toString('latin1');
      bytePattern.lastIndex = 0;
      if (!bytePattern.test(text)) return null;
      return Buffer.from(text.replace(bytePattern, byteReplace), 'latin1');
    },
  };
}

/** A text's UTF-8 bytes as latin1 characters. */
function latin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Holds back the last (longest − 1) bytes of what it has seen: a needle starting there may end in
 * the next chunk. A match that starts before that point lies wholly in what was seen, and no longer
 * needle can start at the same place without being seen too, so longest-first still holds.
 */
function scrubbingStream(pattern: RegExp, replace: (match: string) => string, longest: number): Transform {
  let held = '';
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = held + chunk.toString('latin1');
      const cut = Math.max(0, text.length - (longest - 1));
      let out = '';
      let at = 0;
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m !== null && m.index < cut; m = pattern.exec(text)) {
        out += text.slice(at, m.index) + replace(m[0]);
        at = m.index + m[0].length;
      }
      const keepFrom = Math.max(at, cut);
      out += text.slice(at, keepFrom);
      held = text.slice(keepFrom);
      done(null, out === '' ? undefined : Buffer.from(out, 'latin1'));
    },
    flush(done) {
      done(null, held === '' ? undefined : Buffer.from(held.replace(pattern, replace), 'latin1'));
    },
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
