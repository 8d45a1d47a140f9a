import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { createScrubber } from '../secrets/scrub.js';
import { cutChars, finishLine, LineSplitter, MAX_LINE_BYTES, truncateUtf8 } from './lines.js';

function split(keepChars: number, ...pieces: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const splitter = new LineSplitter(keepChars, (head, dropped) => out.push([head, dropped]));
  for (const piece of pieces) splitter.push(piece);
  splitter.end();
  return out;
}

describe('LineSplitter', () => {
  it('holds a partial line until its newline, and emits it at end()', () => {
    expect(split(100, 'a', 'b\nc', 'd\n\ne')).toEqual([['ab', 0], ['cd', 0], ['', 0], ['e', 0]]);
    expect(split(100, 'x\n')).toEqual([['x', 0]]);
  });

  it('keeps a bounded head of a long line and counts the bytes beyond', () => {
    expect(split(4, 'abc', 'def', 'é\nok')).toEqual([['abcd', 4], ['ok', 0]]);
  });

  it('never keeps half a surrogate pair', () => {
    expect(split(2, 'a😀b\n')).toEqual([['a', 5]]);
  });
});

describe('finishLine', () => {
  const id = (s: string) => s;

  it('strips one trailing CR and keeps ANSI escapes', () => {
    expect(finishLine('\u001b[32mok\u001b[0m\r', 0, id)).toBe('\u001b[32mok\u001b[0m');
  });

  it('caps a line at MAX_LINE_BYTES with a suffix counting every byte lost', () => {
    const head = 'x'.repeat(MAX_LINE_BYTES + 10);
    expect(finishLine(head, 90, id)).toBe(`${'x'.repeat(MAX_LINE_BYTES)} …[truncated 100 bytes]`);
  });

  it('scrubs before cutting, so a secret across the cap never leaves its start', () => {
    const secret = 'sk-ABCD123';
    const { scrub, longest } = createScrubber([secret]);
    const line = `${'x'.repeat(MAX_LINE_BYTES - 4)}${secret}${'y'.repeat(50_000)}`;
    const out: string[] = [];
    const splitter = new LineSplitter(MAX_LINE_BYTES + longest, (head, dropped) => out.push(finishLine(head, dropped, scrub)));
    splitter.push(line.slice(0, 16_382));
    splitter.push(`${line.slice(16_382)}\n`);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain('sk-A');
    expect(out[0]).toMatch(/^x+\[RED …\[truncated \d+ bytes\]$/);
  });
});

describe('truncateUtf8', () => {
  it('cuts on a character boundary', () => {
    expect(truncateUtf8('aé€', 3)).toEqual({ text: 'aé', cutBytes: 3 });
    expect(truncateUtf8('aé€', 5)).toEqual({ text: 'aé', cutBytes: 3 });
    expect(truncateUtf8('aé€', 6)).toEqual({ text: 'aé€', cutBytes: 0 });
  });
});

describe('cutChars', () => {
  it('keeps surrogate pairs whole', () => {
    expect(cutChars('ab😀', 3)).toBe('ab');
    expect(cutChars('abc', 5)).toBe('abc');
  });
});

describe('StringDecoder, as used per stream', () => {
  it('keeps a multibyte character split across two reads', () => {
    const bytes = Buffer.from('5€\n');
    const decoder = new StringDecoder('utf8');
    expect(decoder.write(bytes.subarray(0, 2)) + decoder.write(bytes.subarray(2))).toBe('5€\n');
  });
});
