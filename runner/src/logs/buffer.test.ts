import { describe, expect, it } from 'vitest';
import { LINE_OVERHEAD_BYTES, LineBuffer, MAX_LINES_PER_CHUNK, type LogLine } from './buffer.js';

const at = '2026-09-02T14:00:00.000Z';
const line = (text: string): LogLine => ({ source: 'trial', file: 'trial.log', text, at });

function buffer(maxChunkBytes: number, maxBufferedBytes = 1 << 30): LineBuffer {
  return new LineBuffer({ maxChunkBytes, maxBufferedBytes, dropNotice: (n) => ({ source: 'runner', text: `${n} dropped`, at }) });
}

function texts(lines: LogLine[] | null): string[] | null {
  return lines?.map((l) => l.text) ?? null;
}

describe('LineBuffer.cut', () => {
  it('fills chunks up to maxChunkBytes of text; a larger line goes alone', () => {
    const b = buffer(100);
    for (const t of ['a'.repeat(50), 'b'.repeat(40), 'c'.repeat(20), 'd'.repeat(300), 'e'.repeat(10)]) b.push(line(t));
    const mark = b.mark();
    expect(texts(b.cut(mark))).toEqual(['a'.repeat(50), 'b'.repeat(40)]);
    expect(texts(b.cut(mark))).toEqual(['c'.repeat(20)]);
    expect(texts(b.cut(mark))).toEqual(['d'.repeat(300)]);
    expect(texts(b.cut(mark))).toEqual(['e'.repeat(10)]);
    expect(b.cut(mark)).toBeNull();
    expect(b.length).toBe(0);
    expect(b.bytes).toBe(0);
  });

  it('holds lines that arrived after the mark until a full chunk is waiting', () => {
    const b = buffer(100);
    b.push(line('old'));
    const mark = b.mark();
    b.push(line('new'));
    expect(texts(b.cut(mark))).toEqual(['old', 'new']);
    b.push(line('later'));
    expect(b.cut(mark)).toBeNull();
    b.push(line('x'.repeat(100)));
    expect(texts(b.cut(mark))).toEqual(['later']);
  });

  it('caps the number of lines per chunk', () => {
    const b = buffer(1 << 20);
    for (let i = 0; i < MAX_LINES_PER_CHUNK + 5; i += 1) b.push(line(''));
    expect(b.cut(b.mark())).toHaveLength(MAX_LINES_PER_CHUNK);
    expect(b.cut(b.mark())).toHaveLength(5);
  });
});

describe('LineBuffer overflow', () => {
  it('drops the oldest lines and announces how many ahead of the survivors', () => {
    const b = buffer(1 << 20, 3 * (10 + LINE_OVERHEAD_BYTES));
    for (let i = 0; i < 10; i += 1) b.push(line(`line ${String(i).padStart(5, '0')}`));
    expect(b.droppedLines).toBe(7);
    expect(texts(b.cut(b.mark()))).toEqual(['7 dropped', 'line 00007', 'line 00008', 'line 00009']);
    b.push(line('line 00010'));
    expect(texts(b.cut(b.mark()))).toEqual(['line 00010']);
  });

  it('always keeps the newest line', () => {
    const b = buffer(1 << 20, 10);
    b.push(line('x'.repeat(50)));
    expect(b.length).toBe(1);
    expect(b.droppedLines).toBe(0);
  });
});
