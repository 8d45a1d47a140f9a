// The bounded buffer between the readers and the publisher, and the rule that cuts it into chunks.
import type { LogChunk } from '../protocol/messages.js';

export type LogLine = LogChunk['lines'][number];

/**
 * What one buffered line costs against maxBufferedBytes besides its text: the line object, its
 * source, file and timestamp. Without it a flood of empty lines would be free.
 */
export const LINE_OVERHEAD_BYTES = 64;

/**
 * At most this many lines per chunk, whatever their size: each line carries ~70 bytes of JSON
 * besides its text (plus a file name of up to 300), so 1,000 lines with 64 KiB of text stay well
 * under NATS' default 1 MiB payload even when every text byte is JSON-escaped.
 */
export const MAX_LINES_PER_CHUNK = 1000;

interface Entry {
  line: LogLine;
  textBytes: number;
  /** Position in arrival order (1, 2, …); 0 for the drop notice, which is always due. */
  n: number;
}

export interface LineBufferOptions {
  maxChunkBytes: number;
  maxBufferedBytes: number;
  /** The line announcing that `count` older lines were dropped. */
  dropNotice: (count: number) => LogLine;
}

/**
 * A FIFO of lines with byte accounting. Beyond maxBufferedBytes the oldest lines are dropped (the
 * newest line is always kept); the next cut starts with one notice saying how many.
 */
export class LineBuffer {
  readonly #options: LineBufferOptions;
  /** Consumed slots are cleared and compacted away now and then. */
  #entries: (Entry | undefined)[] = [];
  #head = 0;
  #bytes = 0;
  #textBytes = 0;
  #arrived = 0;
  #droppedSinceCut = 0;
  #droppedTotal = 0;

  constructor(options: LineBufferOptions) {
    this.#options = options;
  }

  get length(): number {
    return this.#entries.length - this.#head;
  }

  /** Bytes counted against maxBufferedBytes. */
  get bytes(): number {
    return this.#bytes;
  }

  get droppedLines(): number {
    return this.#droppedTotal;
  }

  push(line: LogLine): void {
    const textBytes = Buffer.byteLength(line.text);
    this.#arrived += 1;
    this.#entries.push({ line, textBytes, n: this.#arrived });
    this.#bytes += textBytes + LINE_OVERHEAD_BYTES;
    this.#textBytes += textBytes;
    while (this.#bytes > this.#options.maxBufferedBytes && this.length > 1) {
      this.#shift();
      this.#droppedSinceCut += 1;
      this.#droppedTotal += 1;
    }
  }

  /** The arrival position of the newest line: cut(mark) takes everything buffered until now. */
  mark(): number {
    return this.#arrived;
  }

  /**
   * The next chunk, or null when nothing is due. Due: a line that arrived by `upTo`, or a full
   * chunk's worth. Lines are taken in order while the chunk's text stays within maxChunkBytes; a
   * single line larger than maxChunkBytes goes alone in its own chunk (it is never split: lines
   * are already capped by MAX_LINE_BYTES).
   */
  cut(upTo: number): LogLine[] | null {
    if (this.#droppedSinceCut > 0) {
      const line = this.#options.dropNotice(this.#droppedSinceCut);
      const textBytes = Buffer.byteLength(line.text);
      this.#droppedSinceCut = 0;
      // Ahead of the survivors, where the gap is.
      this.#entries.splice(this.#head, 0, { line, textBytes, n: 0 });
      this.#textBytes += textBytes;
      this.#bytes += textBytes + LINE_OVERHEAD_BYTES;
    }
    const first = this.#entries[this.#head];
    if (!first) return null;
    const full = this.#textBytes >= this.#options.maxChunkBytes || this.length >= MAX_LINES_PER_CHUNK;
    if (first.n > upTo && !full) return null;
    const lines: LogLine[] = [];
    let size = 0;
    for (let entry = this.#entries[this.#head]; entry; entry = this.#entries[this.#head]) {
      if (lines.length > 0 && (size + entry.textBytes > this.#options.maxChunkBytes || lines.length >= MAX_LINES_PER_CHUNK)) break;
      lines.push(entry.line);
      size += entry.textBytes;
      this.#shift();
    }
    return lines;
  }

  #shift(): void {
    const entry = this.#entries[this.#head];
    if (!entry) return;
    this.#entries[this.#head] = undefined;
    this.#head += 1;
    this.#bytes -= entry.textBytes + LINE_OVERHEAD_BYTES;
    this.#textBytes -= entry.textBytes;
    // Compact now and then instead of Array#shift on every line (O(n) each on long arrays).
    if (this.#head >= 1024 && this.#head * 2 >= this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
