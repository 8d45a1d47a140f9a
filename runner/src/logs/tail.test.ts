import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTail, TrajectoryTail, type TailSink } from './tail.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'runner-tail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TrajectoryTail', () => {
  it('retries a parse failure at the next poll even when size and mtime did not change', async () => {
    const file = path.join(dir, 'trajectory.json');
    const valid = JSON.stringify({ steps: [{ step_id: 1, source: 'agent', message: 'hi' }] });
    const mtime = new Date('2026-09-02T14:00:00Z');
    const lines: string[] = [];
    const tail = new TrajectoryTail(file, 'agent/trajectory.json', (s) => s, (l) => lines.push(l), (n) => lines.push(`notice ${n}`));
    // What a reader can see mid-write: the new size, stale bytes.
    await writeFile(file, `{"steps": [${' '.repeat(valid.length - 11)}`);
    await utimes(file, mtime, mtime);
    await tail.poll();
    expect(lines).toEqual([]);
    await writeFile(file, valid);
    await utimes(file, mtime, mtime);
    await tail.poll();
    await tail.poll();
    expect(lines).toEqual(['step 1 agent: hi']);
  });
});

describe('FileTail', () => {
  it('reads one bounded slice per poll', async () => {
    const file = path.join(dir, 'trial.log');
    await writeFile(file, 'aaaa\nbbbb\ncccc\n');
    const lines: string[] = [];
    const sink: TailSink = { line: (_s, _f, head) => lines.push(head), notice: (n) => lines.push(`notice ${n}`) };
    const tail = new FileTail(file, 'trial.log', 'trial', sink, 1000);
    const slice = Buffer.alloc(7);
    await tail.poll(slice);
    expect(lines).toEqual(['aaaa']);
    await tail.poll(slice);
    expect(lines).toEqual(['aaaa', 'bbbb']);
    await tail.poll(slice, true);
    expect(lines).toEqual(['aaaa', 'bbbb', 'cccc']);
  });
});
