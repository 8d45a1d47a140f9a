import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, parseSecretsKey, seal } from './sealed.js';

describe('sealed secrets', () => {
  const key = randomBytes(32);

  it('round-trips and never contains the plaintext', () => {
    const sealed = seal(key, 'sk-or-v1-secret', 'OPENROUTER_API_KEY');
    expect(sealed).not.toContain('sk-or');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('secret');
    expect(open(key, sealed, 'OPENROUTER_API_KEY')).toBe('sk-or-v1-secret');
  });

  it('refuses another key, other associated data and altered bytes', () => {
    const sealed = seal(key, 'k', 'A');
    expect(() => open(randomBytes(32), sealed, 'A')).toThrow(/cannot be opened/);
    expect(() => open(key, sealed, 'B')).toThrow(/cannot be opened/);
    const bytes = Buffer.from(sealed, 'base64');
    bytes[bytes.length - 1]! ^= 1;
    expect(() => open(key, bytes.toString('base64'), 'A')).toThrow(/cannot be opened/);
  });

  it('reads keys in hex or base64 and names the variable when the length is wrong', () => {
    expect(parseSecretsKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretsKey(key.toString('base64'))).toEqual(key);
    expect(() => parseSecretsKey('short')).toThrow(/^SECRETS_KEY must be 32 bytes/);
  });
});
