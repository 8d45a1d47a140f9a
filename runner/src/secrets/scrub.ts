// Provider keys replaced by [REDACTED] wherever text leaves the platform: log lines the runner
// publishes (strings), and trial files the API serves (bytes, streamed, so a key split across two
// reads is still found).
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
}

/** The texts to look for: each secret (or each long line of a multi-line one), and its JSON-escaped form. */
function needlesOf(secrets: readonly string[]): string[] {
  const needles = new Set<string>();
  for (const raw of secrets) {
    const secret = raw.trim();
    if (secret === '') continue;
    const pieces = /[\r\n]/.test(secret)
      ? secret.split(/\r?\n|\r/).map((p) => p.trim()).filter((p) => p.length >= MIN_SECRET_PIECE)
      : [secret];
    for (const piece of pieces) {
      needles.add(piece);
      // As it appears inside JSON files (sessions, trajectories).
      needles.add(JSON.stringify(piece).slice(1, -1));
    }
  }
  // Longest first: overlapping secrets are replaced by the longest match.
  return [...needles].sort((a, b) => b.length - a.length);
}

/**
 * One regex alternation, longest needle first, so overlapping secrets are replaced by the longest
 * match in a single pass and "[REDACTED]" itself is never re-scanned.
 */
export function createScrubber(secrets: readonly string[]): Scrubber {
  const needles = needlesOf(secrets);
  if (needles.length === 0) return { scrub: (text) => text, longest: 0, active: false, stream: () => new PassThrough() };
  const pattern = new RegExp(needles.map(escapeRegExp).join('|'), 'g');
  // Bytes as latin1 text (one character per byte, both ways), so the same regex works on any file
  // without decoding it: a UTF-8 needle becomes its bytes, and what is not a match is copied byte for byte.
  const byteNeedles = [...new Set(needles.map((n) => Buffer.from(n, 'utf8').toString('latin1')))].sort((a, b) => b.length - a.length);
  const bytePattern = new RegExp(byteNeedles.map(escapeRegExp).join('|'), 'g');
  const longestBytes = byteNeedles[0]!.length;
  return {
    scrub: (text) => (text === '' ? text : text.replace(pattern, REDACTED)),
    longest: needles[0]!.length,
    active: true,
    stream: () => scrubbingStream(bytePattern, longestBytes),
  };
}

/**
 * Holds back the last (longest − 1) bytes of what it has seen: a needle starting there may end in
 * the next chunk. A match that starts before that point lies wholly in what was seen, and no longer
 * needle can start at the same place without being seen too, so longest-first still holds.
 */
function scrubbingStream(pattern: RegExp, longest: number): Transform {
  let held = '';
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const text = held + chunk.toString('latin1');
      const cut = Math.max(0, text.length - (longest - 1));
      let out = '';
      let at = 0;
      pattern.lastIndex = 0;
      for (let m = pattern.exec(text); m !== null && m.index < cut; m = pattern.exec(text)) {
        out += text.slice(at, m.index) + REDACTED;
        at = m.index + m[0].length;
      }
      const keepFrom = Math.max(at, cut);
      out += text.slice(at, keepFrom);
      held = text.slice(keepFrom);
      done(null, out === '' ? undefined : Buffer.from(out, 'latin1'));
    },
    flush(done) {
      done(null, held === '' ? undefined : Buffer.from(held.replace(pattern, REDACTED), 'latin1'));
    },
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
