// From bytes to log lines: a splitter that holds partial lines (bounded), secret scrubbing on
// complete lines, and the per-line size cap. Decoding itself is a StringDecoder per stream, so a
// multibyte character split across two reads survives; the splitter only ever sees whole text.

/**
 * Longest line kept, in UTF-8 bytes (before the truncation suffix). A log line longer than this is
 * almost always a minified blob or a progress bar without newlines; 16 KiB keeps four of them in a
 * default 64 KiB chunk and well inside NATS' 1 MiB payload once JSON-escaped.
 */
export const MAX_LINE_BYTES = 16 * 1024;

/**
 * Splits decoded text on '\n', holding the partial last line until its newline (or end()). A
 * partial line keeps at most `keepChars` characters and only counts the bytes beyond, so a
 * newline-free stream cannot grow memory without bound.
 */
export class LineSplitter {
  readonly #keepChars: number;
  readonly #onLine: (head: string, droppedBytes: number) => void;
  #held = '';
  #dropped = 0;

  /** onLine receives the kept head of each complete line and how many bytes were cut from its end. */
  constructor(keepChars: number, onLine: (head: string, droppedBytes: number) => void) {
    this.#keepChars = keepChars;
    this.#onLine = onLine;
  }

  push(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.#append(text.slice(start, nl));
      this.#emit();
      start = nl + 1;
    }
    if (start < text.length) this.#append(text.slice(start));
  }

  /** Emits the held partial line, if any. */
  end(): void {
    if (this.#held !== '' || this.#dropped > 0) this.#emit();
  }

  #append(piece: string): void {
    if (piece === '') return;
    const room = this.#keepChars - this.#held.length;
    if (piece.length <= room) {
      this.#held += piece;
      return;
    }
    let keep = Math.max(room, 0);
    // Never keep half of a surrogate pair.
    if (keep > 0 && isHighSurrogate(piece.charCodeAt(keep - 1))) keep -= 1;
    this.#held += piece.slice(0, keep);
    this.#dropped += Buffer.byteLength(piece.slice(keep));
  }

  #emit(): void {
    const head = this.#held;
    const dropped = this.#dropped;
    this.#held = '';
    this.#dropped = 0;
    this.#onLine(head, dropped);
  }
}

/**
 * The published text of one complete line: trailing '\r' stripped, secrets scrubbed (before any
 * cut, so a cut never leaves half a secret), then capped at maxBytes with " …[truncated N bytes]",
 * N counting every byte not published.
 */
export function finishLine(head: string, droppedBytes: number, scrub: (text: string) => string, maxBytes = MAX_LINE_BYTES): string {
  const text = scrub(droppedBytes === 0 && head.endsWith('\r') ? head.slice(0, -1) : head);
  const { text: kept, cutBytes } = truncateUtf8(text, maxBytes);
  const lost = cutBytes + droppedBytes;
  return lost > 0 ? `${kept} …[truncated ${lost} bytes]` : kept;
}

/** The longest prefix of `text` within maxBytes of UTF-8, cut on a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): { text: string; cutBytes: number } {
  // Every UTF-16 unit encodes to at least one byte, and at most three.
  if (text.length * 3 <= maxBytes) return { text, cutBytes: 0 };
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return { text, cutBytes: 0 };
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return { text: bytes.toString('utf8', 0, end), cutBytes: bytes.length - end };
}

/** The first `max` UTF-16 units of text, without splitting a surrogate pair. */
export function cutChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return text.slice(0, end);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
