import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { createScrubber, REDACTED } from './scrub.js';

describe('createScrubber', () => {
  it('replaces every occurrence of every secret, longest first, in one pass', () => {
    const { scrub } = createScrubber(['abc123', 'abc123456', '', 'zz.*+?']);
    expect(scrub('x abc123456 y abc123 zz.*+? abc123')).toBe(`x ${REDACTED} y ${REDACTED} ${REDACTED} ${REDACTED}`);
    expect(scrub('nothing here')).toBe('nothing here');
  });

  it('is the identity without secrets', () => {
    const scrubber = createScrubber(['', '  ']);
    expect(scrubber.scrub('sk-1')).toBe('sk-1');
    expect(scrubber.longest).toBe(0);
  });

  it('also matches the JSON-escaped form and trims surrounding whitespace', () => {
    const { scrub } = createScrubber(['pa"ss\\word\n']);
    expect(scrub('{"k":"pa\\"ss\\\\word"} raw pa"ss\\word')).toBe(`{"k":"${REDACTED}"} raw ${REDACTED}`);
  });

  it('scrubs the long lines of a multi-line secret, not its short ones', () => {
    const pem = '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n}\n-----END KEY-----';
    const { scrub } = createScrubber([pem]);
    expect(scrub('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC')).toBe(REDACTED);
    expect(scrub('}')).toBe('}');
  });
});

describe('createScrubber: replacements', () => {
  it('puts placeholders for literal texts in the same pass, and a secret wins over a replacement', () => {
    const { scrub } = createScrubber(['sk-secret-1234'], [['/srv/jobs', '$JOBS_DIR'], ['/srv/tasks', '$TASKS_DIR']]);
    expect(scrub('/srv/jobs/run-1/trial.log and /srv/tasks/abc/t with sk-secret-1234')).toBe(`$JOBS_DIR/run-1/trial.log and $TASKS_DIR/abc/t with ${REDACTED}`);
    expect(createScrubber(['/srv/jobs'], [['/srv/jobs', '$JOBS_DIR']]).scrub('/srv/jobs')).toBe(REDACTED);
  });

  it('replaces in bytes too, and says when there was nothing to replace', () => {
    const scrubber = createScrubber(['sk-ü-secret-42'], [['/srv/jobs', '$JOBS_DIR']]);
    expect(scrubber.scrubBytes(Buffer.from('{"p":"/srv/jobs/x","k":"sk-ü-secret-42"}'))!.toString()).toBe(`{"p":"$JOBS_DIR/x","k":"${REDACTED}"}`);
    expect(scrubber.scrubBytes(Buffer.from('clean'))).toBeNull();
    expect(createScrubber([]).scrubBytes(Buffer.from('sk'))).toBeNull();
  });
});

describe('createScrubber: byte streams', () => {
  /** The stream's output for `input` fed in pieces of `size` bytes. */
  async function streamed(secrets: string[], input: Buffer, size: number): Promise<Buffer> {
    const pieces: Buffer[] = [];
    for (let i = 0; i < input.length; i += size) pieces.push(input.subarray(i, i + size));
    return buffer(Readable.from(pieces).pipe(createScrubber(secrets).stream()));
  }

  it('finds a secret however the reads split it, longest first, and in its JSON-escaped form', async () => {
    const input = Buffer.from('key=sk-or-v1-abcdef0123 and sk-or-v1-abcdef0123456 in {"k":"pa\\"ss-word-1"} end');
    const want = `key=${REDACTED} and ${REDACTED} in {"k":"${REDACTED}"} end`;
    for (const size of [1, 2, 3, 7, 16, 1000]) {
      expect((await streamed(['sk-or-v1-abcdef0123', 'sk-or-v1-abcdef0123456', 'pa"ss-word-1'], input, size)).toString()).toBe(want);
    }
  });

  it('passes every other byte through unchanged, binary and multibyte UTF-8 alike', async () => {
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3]);
    const input = Buffer.concat([binary, Buffer.from('é€😀 sk-ünïcode-secret 😀'), binary]);
    for (const size of [1, 5, 64]) {
      const out = await streamed(['sk-ünïcode-secret'], input, size);
      expect(out).toEqual(Buffer.concat([binary, Buffer.from(`é€😀 ${REDACTED} 😀`), binary]));
    }
  });

  it('is a plain pass-through without secrets', async () => {
    const scrubber = createScrubber(['  ']);
    expect(scrubber.active).toBe(false);
    const input = Buffer.from([1, 2, 3, 0xff]);
    expect(await buffer(Readable.from([input]).pipe(scrubber.stream()))).toEqual(input);
  });
});
