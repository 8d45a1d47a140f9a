import { describe, expect, it } from 'vitest';
import { descriptionProblem, label, nameProblem, parseLabel, versionProblem } from './names.js';

describe('dataset names and versions', () => {
  it('takes the names Harbor and people use', () => {
    for (const name of ['terminal-bench', 'terminal_bench.core', 'TB2', 'a', 'x'.repeat(100)]) expect(nameProblem(name), name).toBeNull();
    for (const version of ['2.0', '1', 'head', '2025-06-01', '1.0+fix', 'v'.repeat(50)]) expect(versionProblem(version), version).toBeNull();
  });

  it('refuses empty, long, and names with spaces, @, / or a leading dot, saying why', () => {
    expect(nameProblem('')).toBe('name must not be empty');
    expect(nameProblem('x'.repeat(101))).toBe('name must be at most 100 characters, got 101');
    for (const bad of ['my set', 'tb@2', 'a/b', '.hidden', '-flag', 'déjà']) {
      expect(nameProblem(bad), bad).toMatch(/must start with a letter or digit and hold only letters, digits, '.', '_' and '-'/);
    }
    expect(versionProblem('')).toBe('version must not be empty');
    expect(versionProblem('1'.repeat(51))).toBe('version must be at most 50 characters, got 51');
    expect(versionProblem('2 .0')).toMatch(/must start with a letter or digit/);
    expect(descriptionProblem('d'.repeat(2001))).toBe('description must be at most 2000 characters, got 2001');
    expect(descriptionProblem(null)).toBeNull();
  });

  it('writes and reads labels, splitting at the @ no name or version holds', () => {
    expect(label('terminal-bench', '2.0')).toBe('terminal-bench@2.0');
    expect(parseLabel(' terminal-bench@2.0 ')).toEqual({ name: 'terminal-bench', version: '2.0' });
    expect(parseLabel('terminal-bench')).toBeNull();
    expect(parseLabel('@2.0')).toBeNull();
    expect(parseLabel('a@b@c')).toBeNull();
    expect(parseLabel('tb@')).toBeNull();
  });
});
