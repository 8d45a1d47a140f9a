import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logChunkSchema, type LogChunk } from '../protocol/messages.js';
import { keepsOwnAgentLog } from '../protocol/layout.js';
import { waitFor } from '../../test/support/wait.js';
import { startLogCapture, type LogCapture, type LogCaptureOptions } from './index.js';

type Line = LogChunk['lines'][number];

const TRIAL = 'fix-git__aB3dE9x';
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface Harness {
  jobDir: string;
  trialDir: string;
  capture: LogCapture;
  /** Every chunk handed to publish, validated against the wire schema, in call order. */
  chunks: LogChunk[];
  lines(): Line[];
  texts(file?: string): string[];
  waitForText(text: string): Promise<void>;
  /** Returns once a whole poll pass has started after everything written before the call. */
  sync(): Promise<void>;
  write(rel: string, data: string | Buffer): Promise<void>;
}

async function start(overrides: Partial<LogCaptureOptions> = {}, { createJobDir = true } = {}): Promise<Harness> {
  const root = await mkdtemp(path.join(tmpdir(), 'runner-logs-'));
  const jobDir = path.join(root, 'run-7f3c9a');
  if (createJobDir) await mkdir(jobDir);
  const trialDir = path.join(jobDir, TRIAL);
  const chunks: LogChunk[] = [];
  const record = async (chunk: LogChunk) => {
    chunks.push(logChunkSchema.parse(structuredClone(chunk)));
  };
  const capture = startLogCapture({ runId: 'run-1', jobDir, publish: record, secrets: [], pollMs: 20, flushMs: 50, ...overrides });
  cleanups.push(() => rm(root, { recursive: true, force: true }), () => capture.stop());

  const lines = () => chunks.flatMap((c) => c.lines);
  const texts = (file?: string) => lines().filter((l) => file === undefined || l.file === file).map((l) => l.text);
  const waitForText = (text: string) => until(() => lines().some((l) => l.text === text), `line ${JSON.stringify(text)}`);
  const write = async (rel: string, data: string | Buffer) => {
    const abs = path.join(jobDir, rel);
    await mkdir(path.dirname(abs), { recursive: true });
    await appendFile(abs, data);
  };
  let barrier = 0;
  const sync = async () => {
    // A pass that reads barrier N+1 started after the pass that read barrier N ended (passes are
    // sequential), hence after every earlier write.
    for (let i = 0; i < 2; i += 1) {
      const text = `barrier ${(barrier += 1)}`;
      await write('job.log', `${text}\n`);
      await waitForText(text);
    }
  };
  return { jobDir, trialDir, capture, chunks, lines, texts, waitForText, sync, write };
}

/** Polls often: these captures read within milliseconds, and some tests wait for many lines in turn. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  await waitFor(predicate, { what, timeoutMs: 20_000, intervalMs: 5 });
}

/**
 * Inodes of the folders this process has an inotify watch on (Linux: /proc/self/fdinfo). A watch
 * being set is otherwise invisible, and the change-notification tests must not write before it is.
 */
async function watchedInodes(): Promise<Set<number>> {
  const inodes = new Set<number>();
  for (const fd of await readdir('/proc/self/fdinfo')) {
    const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8').catch(() => '');
    for (const m of info.matchAll(/^inotify wd:\S+ ino:([0-9a-f]+) /gm)) inodes.add(Number.parseInt(m[1]!, 16));
  }
  return inodes;
}

const watched = async (dir: string) => (await watchedInodes()).has((await stat(dir)).ino);

/** `count` ticks of a `ms` timer, one after the other: a clock that slows with the machine. */
async function ticks(count: number, ms: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setTimeout(resolve, ms));
}

const withoutBarriers = (texts: string[]) => texts.filter((t) => !t.startsWith('barrier '));

describe('startLogCapture: files', () => {
  it("tails agent/sessions/ only while the agent keeps no log of its own (agent/<name>.txt), so each event shows once", async () => {
    const h = await start();
    // An agent whose sessions are its only log (or whose log is not there yet): they are tailed.
    await h.write(`${TRIAL}/agent/sessions/projects/-app/s.jsonl`, '{"type":"system"}\n');
    await h.write(`${TRIAL}/agent/exit-code.txt`, '0');
    await h.waitForText('{"type":"system"}');
    // Its own log appears: the sessions repeat it from here on, and are let go.
    await h.write(`${TRIAL}/agent/claude-code.txt`, '{"type":"assistant"}\n');
    await h.waitForText('{"type":"assistant"}');
    await h.sync();
    await h.write(`${TRIAL}/agent/sessions/projects/-app/s.jsonl`, '{"type":"assistant"}\n');
    await h.write(`${TRIAL}/agent/sessions/2026/01/02/rollout.jsonl`, '{"type":"session_meta"}\n');
    await h.capture.stop();
    expect(h.texts('agent/claude-code.txt')).toEqual(['{"type":"assistant"}']);
    expect(h.texts('agent/sessions/projects/-app/s.jsonl')).toEqual(['{"type":"system"}']);
    expect(h.texts().join('\n')).not.toContain('session_meta');
  });

  it("never tails an installed agent's sessions/, even when they are copied in before its own log", async () => {
    // Harbor copies a container's agent/ out after the agent phase in any order: sessions/ may land
    // first. The agent is known to keep its own log (keepsOwnAgentLog), so no session line is sent.
    const h = await start({ agentKeepsOwnLog: true });
    await h.write(`${TRIAL}/trial.log`, 'trial 1\n');
    await h.write(`${TRIAL}/agent/sessions/projects/-app/s.jsonl`, '{"type":"system"}\n');
    await h.waitForText('trial 1');
    await h.sync();
    await h.write(`${TRIAL}/agent/claude-code.txt`, '{"type":"assistant"}\n');
    await h.waitForText('{"type":"assistant"}');
    await h.capture.stop();
    expect(h.texts('agent/sessions/projects/-app/s.jsonl')).toEqual([]);
    expect(keepsOwnAgentLog('claude-code')).toBe(true);
    expect(['oracle', 'nop', 'terminus-2', 'my.agents:Custom'].filter(keepsOwnAgentLog)).toEqual([]);
  });

  it('tails job.log and the trial files, tagged by source and file, in order, exactly once', async () => {
    const h = await start({}, { createJobDir: false });
    await h.write('job.log', 'job 1\n');
    await h.waitForText('job 1');
    // The trial directory appears later, and its files one by one.
    await h.write(`${TRIAL}/trial.log`, 'trial 1\ntrial 2\n');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, '\u001b[1mpane 1\u001b[0m\n');
    await h.waitForText('trial 2');
    await h.write(`${TRIAL}/trial.log`, 'trial 3\n');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'pane 2\npane 3\n');
    await h.write(`${TRIAL}/agent/claude-code.txt`, 'installed agent\n');
    await h.write(`${TRIAL}/agent/setup/stdout.txt`, 'setup line\n');
    await h.write(`${TRIAL}/agent/sessions/projects/p/s.jsonl`, '{"type":"user"}\n');
    await h.write(`${TRIAL}/agent/episode-1/prompt.txt`, 'not tailed\n');
    await h.write(`${TRIAL}/verifier/test-stdout.txt`, 'PASSED tests/test_outputs.py::test_a\n');
    await h.waitForText('pane 3');
    // Written just before stop: the final pass still reads it.
    await h.write('job.log', 'job 2\n');
    await h.write(`${TRIAL}/verifier/test-stdout.txt`, '1 passed\n');
    await h.capture.stop();

    const bySource = (file: string) => new Set(h.lines().filter((l) => l.file === file).map((l) => l.source));
    expect(withoutBarriers(h.texts('job.log'))).toEqual(['job 1', 'job 2']);
    expect(h.texts('trial.log')).toEqual(['trial 1', 'trial 2', 'trial 3']);
    expect(h.texts('agent/terminus_2.pane')).toEqual(['\u001b[1mpane 1\u001b[0m', 'pane 2', 'pane 3']);
    expect(h.texts('agent/claude-code.txt')).toEqual(['installed agent']);
    expect(h.texts('agent/setup/stdout.txt')).toEqual(['setup line']);
    // The session file repeats claude-code.txt's events: not tailed while the agent keeps its own log.
    expect(h.texts('agent/sessions/projects/p/s.jsonl')).toEqual([]);
    expect(h.texts('verifier/test-stdout.txt')).toEqual(['PASSED tests/test_outputs.py::test_a', '1 passed']);
    expect(h.texts().join('\n')).not.toContain('not tailed');
    expect(bySource('job.log')).toEqual(new Set(['harbor']));
    expect(bySource('trial.log')).toEqual(new Set(['trial']));
    expect(bySource('agent/terminus_2.pane')).toEqual(new Set(['agent']));
    expect(bySource('agent/setup/stdout.txt')).toEqual(new Set(['agent']));
    expect(bySource('verifier/test-stdout.txt')).toEqual(new Set(['verifier']));
  });

  it("follows a multi-step trial's files into steps/<name>/ when Harbor files them there: each line once, the step in its file field", async () => {
    const h = await start();
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'build 1\n');
    await h.write(`${TRIAL}/verifier/test-stdout.txt`, 'build test\n');
    await h.waitForText('build test');
    // The step ends: Harbor moves its folders' files under steps/build/ (the same files, renamed), then the next step writes afresh.
    // The pane goes by way of a folder not tailed, so the trial's tail sees it gone before it turns up in the step.
    await rename(path.join(h.trialDir, 'agent/terminus_2.pane'), path.join(h.jobDir, 'pane-moving'));
    await h.sync();
    await mkdir(path.join(h.trialDir, 'steps/build/agent'), { recursive: true });
    await rename(path.join(h.jobDir, 'pane-moving'), path.join(h.trialDir, 'steps/build/agent/terminus_2.pane'));
    await mkdir(path.join(h.trialDir, 'steps/build/verifier'), { recursive: true });
    await rename(path.join(h.trialDir, 'verifier/test-stdout.txt'), path.join(h.trialDir, 'steps/build/verifier/test-stdout.txt'));
    await h.write(`${TRIAL}/steps/build/agent/terminus_2.pane`, 'build 2\n');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'ship 1\n');
    await h.waitForText('ship 1');
    await h.waitForText('build 2');
    await h.write(`${TRIAL}/steps/ship/verifier/test-stdout.txt`, 'ship test\n');
    await h.capture.stop();
    expect(h.texts('agent/terminus_2.pane')).toEqual(['build 1', 'ship 1']);
    expect(h.texts('steps/build/agent/terminus_2.pane')).toEqual(['build 2']);
    expect(h.texts('verifier/test-stdout.txt')).toEqual(['build test']);
    expect(h.texts('steps/build/verifier/test-stdout.txt')).toEqual([]);
    expect(h.texts('steps/ship/verifier/test-stdout.txt')).toEqual(['ship test']);
  });

  it('holds a partial line until its newline, strips CR, and keeps a character split across writes', async () => {
    const h = await start();
    const euro = Buffer.from('price 5€ ok\r\n');
    await h.write(`${TRIAL}/trial.log`, 'abc');
    await h.write(`${TRIAL}/trial.log`, euro.subarray(0, 8)); // ends inside '€'
    await h.sync();
    expect(h.texts('trial.log')).toEqual([]);
    await h.write(`${TRIAL}/trial.log`, Buffer.concat([euro.subarray(8), Buffer.from('second\r\nno newline')]));
    await h.waitForText('second');
    expect(h.texts('trial.log')).toEqual(['abcprice 5€ ok', 'second']);
    await h.capture.stop();
    expect(h.texts('trial.log')).toEqual(['abcprice 5€ ok', 'second', 'no newline']);
  });

  it('caps a 100 KiB line at 16 KiB with a suffix', async () => {
    const h = await start();
    await h.write(`${TRIAL}/trial.log`, `${'x'.repeat(100 * 1024)}\nafter\n`);
    await h.capture.stop();
    expect(h.texts('trial.log')).toEqual([`${'x'.repeat(16 * 1024)} …[truncated ${84 * 1024} bytes]`, 'after']);
  });

  it('restarts a file that shrank (rewritten) from its start', async () => {
    const h = await start();
    await h.write(`${TRIAL}/trial.log`, 'one\ntwo\n');
    await h.waitForText('two');
    await writeFile(path.join(h.trialDir, 'trial.log'), 'new\n');
    await h.waitForText('new');
    await h.capture.stop();
    expect(h.texts('trial.log')).toEqual(['one', 'two', 'new']);
  });

  it('follows a trial directory deleted and recreated under the same name (a Harbor retry)', async () => {
    const h = await start();
    await h.write(`${TRIAL}/trial.log`, 'attempt 1 line 1\nattempt 1 line 2\n');
    await h.waitForText('attempt 1 line 2');
    await rm(h.trialDir, { recursive: true });
    await h.sync();
    await h.write(`${TRIAL}/trial.log`, 'attempt 2\n');
    await h.capture.stop();
    expect(h.texts('trial.log')).toEqual(['attempt 1 line 1', 'attempt 1 line 2', 'attempt 2']);
  });

  // With pollMs 600 s the safety net makes at most one pass in a test: the one right after the first
  // woken pass. One pass cannot read two lines written in turn, each after the one before was read:
  // of two such lines, one at least was read on notification.
  it('reads a recreated trial directory on notification, from its files\' start', async () => {
    const h = await start({ pollMs: 600_000, flushMs: 20 });
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'attempt 1\n');
    await h.waitForText('attempt 1');
    await rm(h.trialDir, { recursive: true });
    // The capture has taken the deletion in before the folder comes back.
    await h.sync();
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'attempt 2 line 1\n');
    await h.waitForText('attempt 2 line 1');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'attempt 2 line 2\n');
    await h.waitForText('attempt 2 line 2');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'attempt 2 line 3\n');
    await h.waitForText('attempt 2 line 3');
    // From the new file's start, even when it gets the deleted file's inode number back.
    expect(h.texts('agent/terminus_2.pane')).toEqual(['attempt 1', 'attempt 2 line 1', 'attempt 2 line 2', 'attempt 2 line 3']);
    expect((await h.capture.stop()).safetyPolls).toBeLessThanOrEqual(1);
  });

  it('reads a large file to its end at stop, beyond one slice per poll', async () => {
    const h = await start({ pollMs: 60_000 });
    const lines = Array.from({ length: 30_000 }, (_, i) => `line ${String(i).padStart(6, '0')} ${'.'.repeat(20)}`);
    await h.write(`${TRIAL}/agent/terminus_2.pane`, `${lines.join('\n')}\n`); // ~1 MiB, 4 slices
    const stats = await h.capture.stop();
    expect(h.texts('agent/terminus_2.pane')).toEqual(lines);
    expect(stats).toMatchObject({ lines: 30_000, droppedLines: 0, failedChunks: 0 });
  });

  it('skips binary files, recording.cast and symbolic links', async () => {
    const h = await start();
    const outside = path.join(path.dirname(h.jobDir), 'outside.txt');
    await writeFile(outside, 'outside the trial\n');
    await h.write(`${TRIAL}/agent/blob.txt`, Buffer.from([0x89, 0x50, 0x00, 0x0a, 0x41, 0x0a]));
    await h.write(`${TRIAL}/agent/recording.cast`, '{"version": 2, "width": 80}\n[0.1, "o", "hi"]\n');
    await h.write(`${TRIAL}/agent/sessions/recording.cast`, '[0.1, "o", "cast"]\n');
    await h.write(`${TRIAL}/agent/ok.txt`, 'ok\n');
    await symlink(outside, path.join(h.trialDir, 'agent', 'link.txt'));
    await symlink(outside, path.join(h.trialDir, 'trial.log'));
    // A FIFO would block a plain open() forever.
    await mkdir(path.join(h.trialDir, 'verifier'));
    execFileSync('mkfifo', [path.join(h.trialDir, 'verifier', 'test-stdout.txt')]);
    await h.waitForText('ok');
    await h.capture.stop();
    const files = new Set(h.lines().map((l) => l.file));
    expect(files.has('agent/ok.txt')).toBe(true);
    for (const skipped of ['agent/blob.txt', 'agent/recording.cast', 'agent/sessions/recording.cast', 'agent/link.txt', 'trial.log']) {
      expect(files.has(skipped)).toBe(false);
    }
    const all = JSON.stringify(h.chunks);
    expect(all).not.toContain('outside the trial');
    expect(all).not.toContain('"o"');
    expect(h.lines().filter((l) => l.source === 'runner').map((l) => l.text)).toEqual(
      expect.arrayContaining([
        'not tailing agent/blob.txt: binary',
        'not tailing trial.log: a symbolic link',
        'not tailing verifier/test-stdout.txt: not a regular file',
      ]),
    );
  });
});

describe('startLogCapture: Harbor output and notes', () => {
  it('holds a partial line of Harbor output until its newline, and flushes it at stop', async () => {
    const h = await start();
    h.capture.harborOutput('hello wor');
    h.capture.harborOutput(Buffer.from('ld\r\nnext '));
    h.capture.note('marker');
    await h.waitForText('marker');
    expect(h.texts().filter((t) => t.includes('hello') || t.includes('next'))).toEqual(['hello world']);
    const euro = Buffer.from('5€ partial');
    h.capture.harborOutput(euro.subarray(0, 2));
    h.capture.harborOutput(euro.subarray(2));
    await h.capture.stop();
    const harbor = h.lines().filter((l) => l.source === 'harbor' && l.file === undefined);
    expect(harbor.map((l) => l.text)).toEqual(['hello world', 'next 5€ partial']);
    expect(h.lines().find((l) => l.text === 'marker')).toMatchObject({ source: 'runner' });
    expect(h.lines().find((l) => l.text === 'marker')).not.toHaveProperty('file');
  });

  it('stamps lines with now() and stops idempotently, ignoring later calls', async () => {
    const h = await start({ now: () => new Date('2026-09-02T14:00:00Z') });
    h.capture.note('a\nb');
    const first = h.capture.stop();
    expect(h.capture.stop()).toBe(first);
    const stats = await first;
    h.capture.note('after stop');
    h.capture.harborOutput('after stop\n');
    expect(await h.capture.stop()).toEqual(stats);
    expect(h.lines()).toEqual([
      { source: 'runner', text: 'a', at: '2026-09-02T14:00:00.000Z' },
      { source: 'runner', text: 'b', at: '2026-09-02T14:00:00.000Z' },
    ]);
    expect(stats).toMatchObject({ chunks: 1, lines: 2, failedChunks: 0, droppedLines: 0 });
  });
});

describe('startLogCapture: secrets', () => {
  it('redacts a secret split across two appends, in Harbor output and in notes', async () => {
    const h = await start({ secrets: ['sk-ABCD123', ''] });
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'export KEY=sk-AB');
    await h.sync();
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'CD123\n');
    h.capture.harborOutput('token sk-ABC');
    h.capture.harborOutput('D123 used\n');
    h.capture.note('env has sk-ABCD123');
    await h.write('job.log', 'job sk-ABCD123\n');
    await h.capture.stop();
    const all = JSON.stringify(h.chunks);
    expect(all).not.toContain('sk-AB');
    expect(h.texts('agent/terminus_2.pane')).toEqual(['export KEY=[REDACTED]']);
    expect(h.texts()).toEqual(expect.arrayContaining(['token [REDACTED] used', 'env has [REDACTED]', 'job [REDACTED]']));
  });
});

describe('startLogCapture: chunks', () => {
  it('keeps chunks within maxChunkBytes, numbers them 1, 2, 3…, and delivers 10,000 lines in order', async () => {
    const h = await start({ maxChunkBytes: 4096 });
    const expected = Array.from({ length: 10_000 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'-'.repeat(i % 40)}`);
    for (let i = 0; i < 10; i += 1) {
      await h.write(`${TRIAL}/trial.log`, `${expected.slice(i * 1000, (i + 1) * 1000).join('\n')}\n`);
    }
    await until(() => h.texts('trial.log').length === 10_000, '10,000 lines');
    const stats = await h.capture.stop();
    expect(h.texts('trial.log')).toEqual(expected);
    expect(h.chunks.map((c) => c.seq)).toEqual(h.chunks.map((_, i) => i + 1));
    for (const chunk of h.chunks) {
      const bytes = chunk.lines.reduce((sum, l) => sum + Buffer.byteLength(l.text), 0);
      expect(bytes).toBeLessThanOrEqual(4096);
      expect(chunk.runId).toBe('run-1');
    }
    expect(stats).toMatchObject({ chunks: h.chunks.length, lines: h.lines().length, failedChunks: 0, droppedLines: 0 });
  });

  it('sends a line larger than maxChunkBytes alone in its chunk', async () => {
    const h = await start({ maxChunkBytes: 100 });
    await h.write(`${TRIAL}/trial.log`, `${'a'.repeat(50)}\n${'b'.repeat(300)}\n${'c'.repeat(50)}\n`);
    await h.capture.stop();
    const withB = h.chunks.filter((c) => c.lines.some((l) => l.text.startsWith('b')));
    expect(withB).toHaveLength(1);
    expect(withB[0]?.lines).toHaveLength(1);
    for (const chunk of h.chunks) {
      if (chunk.lines.length > 1) expect(chunk.lines.reduce((s, l) => s + Buffer.byteLength(l.text), 0)).toBeLessThanOrEqual(100);
    }
  });

  it('publishes a line after a quiet spell at once, not at the end of a flush interval', async () => {
    const h = await start({ flushMs: 600_000 });
    h.capture.note('right away');
    await h.waitForText('right away');
    // Within the interval, further lines wait for it (or for stop).
    h.capture.note('later');
    const stats = await h.capture.stop();
    expect(h.chunks.map((c) => c.lines.map((l) => l.text))).toEqual([['right away'], ['later']]);
    expect(stats.chunks).toBe(2);
  });

  it('counts a rejected publish and carries on', async () => {
    const seen: number[] = [];
    const h = await start({
      publish: async (chunk) => {
        seen.push(chunk.seq);
        if (chunk.seq === 1) throw new Error('nats: timeout');
        h.chunks.push(chunk);
      },
    });
    h.capture.note('lost');
    await until(() => seen.length === 1, 'the first publish');
    h.capture.note('kept');
    await h.waitForText('kept');
    const stats = await h.capture.stop();
    expect(seen).toEqual([1, 2]);
    expect(h.texts()).toEqual(['kept']);
    expect(stats).toMatchObject({ chunks: 1, lines: 1, failedChunks: 1, droppedLines: 0 });
  });

  it('drops the oldest lines when the publisher falls behind, and says how many', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const h = await start({
      maxBufferedBytes: 2000,
      publish: async (chunk) => {
        calls += 1;
        if (chunk.seq === 1) await gate;
        h.chunks.push(chunk);
      },
    });
    h.capture.note('first');
    await until(() => calls === 1, 'the first publish'); // in flight, held by the gate
    const notes = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
    for (const text of notes) h.capture.note(text);
    release();
    const stats = await h.capture.stop();

    expect(stats.droppedLines).toBeGreaterThan(0);
    const texts = h.texts();
    expect(texts[0]).toBe('first');
    expect(texts[1]).toBe(`${stats.droppedLines} log lines dropped: publishing fell behind (buffer limit 2000 bytes)`);
    expect(texts.slice(2)).toEqual(notes.slice(stats.droppedLines));
    expect(stats).toMatchObject({ failedChunks: 0, lines: texts.length });
  });
});

describe('startLogCapture: trajectory', () => {
  const step = (id: number, extra: Record<string, unknown> = {}) => ({
    step_id: id,
    timestamp: `2026-09-02T14:0${id}:00Z`,
    source: id === 1 ? 'user' : 'agent',
    message: id === 1 ? 'Fix the  git\nrepository' : `Step ${id} with sk-ABCD123`,
    ...(id > 1 ? { tool_calls: [{ tool_call_id: `c${id}`, function_name: 'bash_command', arguments: { keystrokes: `echo ${id}\n`, duration: 0.5 } }] } : {}),
    metrics: { prompt_tokens: 100, completion_tokens: 10, prompt_token_ids: [90001, 90002, 90003], completion_token_ids: [90004] },
    ...extra,
  });
  const doc = (n: number) =>
    JSON.stringify({ schema_version: 'ATIF-v1.6', session_id: 'sess-1', agent: { name: 'terminus-2', version: '2.0.0' }, steps: Array.from({ length: n }, (_, i) => step(i + 1)) }, null, 2);

  it('publishes one line per new step, never garbage from a half-written file', async () => {
    const h = await start({ secrets: ['sk-ABCD123'] });
    const file = path.join(h.trialDir, 'agent', 'trajectory.json');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, '');
    await writeFile(file, doc(1));
    await h.waitForText('step 1 user: Fix the git repository');
    const full = doc(3);
    await writeFile(file, full.slice(0, Math.floor(full.length / 2))); // truncate, half…
    await h.sync();
    await writeFile(file, full); // …the rest
    await until(() => h.texts('agent/trajectory.json').length === 3, 'three step lines');
    await writeFile(file, full); // rewritten unchanged: nothing new
    await h.sync();
    await h.capture.stop();
    expect(h.texts('agent/trajectory.json')).toEqual([
      'step 1 user: Fix the git repository',
      'step 2 agent: Step 2 with [REDACTED] → bash_command({"keystrokes":"echo 2\\n","duration":0.5})',
      'step 3 agent: Step 3 with [REDACTED] → bash_command({"keystrokes":"echo 3\\n","duration":0.5})',
    ]);
    expect(h.lines().filter((l) => l.file === 'agent/trajectory.json').every((l) => l.source === 'agent')).toBe(true);
    const all = JSON.stringify(h.chunks);
    expect(all).not.toContain('90001');
    expect(all).not.toContain('sk-AB');
  });

  it('follows a continuation file separately', async () => {
    const h = await start();
    await h.write(`${TRIAL}/agent/trajectory.json`, doc(2));
    await h.write(`${TRIAL}/agent/trajectory.cont-1.json`, doc(1));
    await h.capture.stop();
    expect(h.texts('agent/trajectory.json')).toHaveLength(2);
    expect(h.texts('agent/trajectory.cont-1.json')).toEqual(['step 1 user: Fix the git repository']);
  });
});

/** This process's open descriptors on files under `dir` (Linux). */
async function descriptorsUnder(dir: string): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir + path.sep));
}

describe('startLogCapture: descriptors kept between reads', () => {
  it('follows a file replaced under its name (renamed over), from the new file\'s start', async () => {
    const h = await start({ pollMs: 10_000 });
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'one\n');
    await h.waitForText('one');
    await writeFile(path.join(h.trialDir, 'agent', 'pane.tmp'), 'two\n');
    await rename(path.join(h.trialDir, 'agent', 'pane.tmp'), path.join(h.trialDir, 'agent', 'terminus_2.pane'));
    await h.waitForText('two');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'three\n');
    await h.waitForText('three');
    expect(h.texts('agent/terminus_2.pane')).toEqual(['one', 'two', 'three']);
  });

  it('notices on notification alone that a file read through a kept descriptor was cut and rewritten', async () => {
    // No safety-net pass within the test: only the notification's read can see the cut.
    const h = await start({ pollMs: 10_000 });
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'one\ntwo\n');
    await h.waitForText('two');
    await h.sync();
    await writeFile(path.join(h.trialDir, 'agent', 'terminus_2.pane'), 'new\n');
    await h.waitForText('new');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'after\n');
    await h.waitForText('after');
    expect(h.texts('agent/terminus_2.pane')).toEqual(['one', 'two', 'new', 'after']);
  });

  it('keeps at most 8 open, lets go of a deleted file, and of all at stop', async () => {
    const h = await start({ pollMs: 10_000 });
    for (let i = 0; i < 20; i++) await h.write(`${TRIAL}/agent/f${i}.log`, `file ${i}\n`);
    for (let i = 0; i < 20; i++) await h.waitForText(`file ${i}`);
    // Kept descriptors are at most 8; a pass still running opens one more for its read and closes
    // it after, so look again until no read is in flight (20 kept would never get there).
    const open = await waitFor(
      async () => {
        const now = await descriptorsUnder(h.trialDir);
        return now.length <= 8 && now;
      },
      { what: 'at most 8 descriptors open', intervalMs: 20 },
    );
    expect(open.length).toBeGreaterThan(0);
    expect(open.length).toBeLessThanOrEqual(8);

    const kept = open[0]!;
    await rm(kept);
    await waitFor(async () => !(await descriptorsUnder(h.trialDir)).some((t) => t.startsWith(kept)), {
      what: `${kept} to be closed after it was deleted`,
      intervalMs: 20,
    });
    await h.capture.stop();
    expect(await descriptorsUnder(h.trialDir)).toEqual([]);
  });
});

describe('change notification', () => {
  it('reads a line on notification, long before the next periodic poll', async () => {
    // pollMs 600 s: at most one safety-net pass, which cannot read both lines (see the note on
    // 'reads a recreated trial directory on notification').
    const h = await start({ pollMs: 600_000, flushMs: 20 });
    // The trial directory appearing wakes a pass, which starts watching the trial's folders.
    const agent = path.join(h.trialDir, 'agent');
    await mkdir(agent, { recursive: true });
    await waitFor(() => watched(agent), { what: 'a watch on agent/' });
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'quick\n');
    await h.waitForText('quick');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'quick again\n');
    await h.waitForText('quick again');
    expect((await h.capture.stop()).safetyPolls).toBeLessThanOrEqual(1);
  });

  it('reads a file in an agent subfolder on notification: the subfolders are watched too', async () => {
    const h = await start({ pollMs: 600_000, flushMs: 20 });
    const nested = path.join(h.trialDir, 'agent', 'sessions', 'episode-1');
    await mkdir(nested, { recursive: true });
    await waitFor(() => watched(nested), { what: 'a watch on agent/sessions/episode-1/' });
    await h.write(`${TRIAL}/agent/sessions/episode-1/later.log`, 'nested\n');
    await h.waitForText('nested');
    await h.write(`${TRIAL}/agent/sessions/episode-1/later.log`, 'nested again\n');
    await h.waitForText('nested again');
    expect((await h.capture.stop()).safetyPolls).toBeLessThanOrEqual(1);
  });

  it('polls every file less and less often while the notifications name every change', async () => {
    const h = await start({ pollMs: 20 });
    await h.write(`${TRIAL}/trial.log`, 'started\n');
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'pane\n');
    await h.waitForText('pane');
    // The quiet spell is the subject: passes are counted over it. A busy machine only lengthens
    // it, which adds few passes when the interval doubles, up to 4 s.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await h.write(`${TRIAL}/agent/terminus_2.pane`, 'still read at once\n');
    await h.waitForText('still read at once');
    // Every 20 ms would be 75 passes; doubling from 20 ms, about 8.
    expect((await h.capture.stop()).safetyPolls).toBeLessThan(25);
  });

  it('keeps polling every pollMs without notifications, and after one that missed a change', async () => {
    const unwatched = await start({ pollMs: 20, watch: false });
    await unwatched.write(`${TRIAL}/trial.log`, 'started\n');
    await unwatched.waitForText('started');
    // A rate is the subject: passes are counted against 100 ticks of a 20 ms timer of the test's
    // own, which a busy machine slows as much as the capture's. Every pollMs makes about 100 passes;
    // backing off makes about 8.
    await ticks(100, 20);
    expect((await unwatched.capture.stop()).safetyPolls).toBeGreaterThan(25);

    // More agent subfolders than are watched: writes to the last ones are only found by polling.
    const h = await start({ pollMs: 20 });
    for (let i = 10; i < 50; i++) await h.write(`${TRIAL}/agent/sessions/s${i}/out.log`, `s${i} started\n`);
    await h.waitForText('s49 started');
    // A quiet spell lets the safety net back off (to 320–640 ms, or more on a busy machine).
    await new Promise((resolve) => setTimeout(resolve, 600));
    // Then a line every tick of a 50 ms timer of the test's own until a pass finds the first one
    // (only passes do), and 40 ticks more.
    let written = 0;
    const writeTick = async () => {
      await h.write(`${TRIAL}/agent/sessions/s49/out.log`, `s49 line ${written++}\n`);
      await ticks(1, 50);
    };
    while (!h.texts().includes('s49 line 0')) {
      if (written > 1_000) throw new Error('no pass found the first missed write');
      await writeTick();
    }
    for (let i = 0; i < 40; i++) await writeTick();
    await h.waitForText(`s49 line ${written - 1}`);
    // A pass every 20–40 ms from the first missed write on (over 40 in the 40 ticks); backing off
    // regardless would make about 8 in all.
    expect((await h.capture.stop()).safetyPolls).toBeGreaterThan(20);
  });
});
