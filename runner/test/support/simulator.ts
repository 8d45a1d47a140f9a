// The Harbor simulator as tests start it. Production never passes HARBOR_SIM_* on to Harbor (the
// runner does not know its test double), so a test that wants knobs for every run of a runner or a
// platform points HARBOR_BIN at a small wrapper that sets them and execs the simulator. Knobs for
// one task go in the task's `.harbor-sim` file instead (read by the simulator itself).
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SIMULATOR = path.join(repoRoot, 'runner/test/harbor-sim/harbor');

const KNOB = /^HARBOR_SIM_[A-Z0-9_]+$/;

/** A value in single quotes for sh: ' becomes '\''. */
const shQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Writes an executable wrapper into `dir` that exports `knobs` (HARBOR_SIM_* only) and execs the
 * simulator with its arguments; returns its path, to use as HARBOR_BIN. The process that runs is
 * the simulator itself (exec), so its command line still names SIMULATOR.
 */
export function simulatorWith(dir: string, knobs: Record<string, string>): string {
  const lines = ['#!/bin/sh', '# Written by runner/test/support/simulator.ts: simulator knobs for this test.'];
  for (const [name, value] of Object.entries(knobs)) {
    if (!KNOB.test(name)) throw new Error(`simulatorWith: ${name} is not a HARBOR_SIM_* variable`);
    lines.push(`export ${name}=${shQuote(value)}`);
  }
  lines.push(`exec ${shQuote(SIMULATOR)} "$@"`, '');
  const file = path.join(mkdtempSync(path.join(dir, 'harbor-sim-')), 'harbor');
  writeFileSync(file, lines.join('\n'));
  chmodSync(file, 0o755);
  return file;
}

/**
 * An environment for a runner or a platform: its HARBOR_SIM_* entries move into a wrapper written
 * into `dir` (the OS temp dir by default), which becomes HARBOR_BIN. Without knobs, or when
 * HARBOR_BIN names something other than the simulator (a test of a missing Harbor), HARBOR_SIM_*
 * entries are dropped and the rest returned unchanged.
 */
export function simulatorEnv<T extends Record<string, string | undefined>>(env: T, dir?: string): T {
  const knobs: Record<string, string> = {};
  const rest: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(env)) {
    if (KNOB.test(name)) {
      if (value !== undefined && value !== '') knobs[name] = value;
    } else rest[name] = value;
  }
  const bin = rest.HARBOR_BIN ?? SIMULATOR;
  if (bin === SIMULATOR && Object.keys(knobs).length > 0) rest.HARBOR_BIN = simulatorWith(dir ?? os.tmpdir(), knobs);
  return rest as T;
}

/**
 * A task package the simulator loads as Harbor does (src/harbor/models/task/task.py): `toml` as
 * task.toml, instruction.md, tests/test.sh, solution/solve.sh, and for each `[[steps]]` name of the
 * toml its folder with an instruction.md.
 */
export async function writeTaskPackage(dir: string, toml: string): Promise<void> {
  const steps = [...toml.matchAll(/^\[\[steps\]\]\s*\nname\s*=\s*"([^"]+)"/gm)].map((m) => m[1]!);
  const files: Record<string, string> = {
    'task.toml': toml,
    'instruction.md': 'Fix the repository in /app.\n',
    'tests/test.sh': '#!/bin/bash\npytest /tests/test_outputs.py -rA\n',
    'solution/solve.sh': '#!/bin/bash\nmake fix\n',
    ...Object.fromEntries(steps.map((name) => [`steps/${name}/instruction.md`, `Step ${name}.\n`])),
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
}
