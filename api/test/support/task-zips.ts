// Synthetic Terminal-Bench 2 tasks and zips of them, built in memory for API tests and benchmarks.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import yazl from 'yazl';

export type FileTree = Record<string, string | Uint8Array>;

export interface TaskOptions {
  difficulty?: string;
  category?: string;
  tags?: string[];
  dockerImage?: string | null;
  /** Extra bytes of test fixture, to reach a given package size. */
  fixtureBytes?: number;
  instruction?: string;
}

/** The files of a valid TB2 task, shaped like terminal-bench-2's fix-git. */
export function tb2Task(name: string, options: TaskOptions = {}): FileTree {
  const tags = (options.tags ?? ['coding']).map((t) => JSON.stringify(t)).join(', ');
  const files: FileTree = {
    'task.toml': [
      'version = "1.0"',
      '',
      '[metadata]',
      'author_name = "Test Author"',
      'author_email = "author@example.com"',
      `difficulty = "${options.difficulty ?? 'medium'}"`,
      `category = "${options.category ?? 'software-engineering'}"`,
      `tags = [ ${tags} ]`,
      'expert_time_estimate_min = 5.0',
      '',
      '[verifier]',
      'timeout_sec = 900.0',
      '',
      '[agent]',
      'timeout_sec = 1800.0',
      '',
      '[environment]',
      'build_timeout_sec = 600.0',
      ...(options.dockerImage === null ? [] : [`docker_image = "${options.dockerImage ?? `example/${name}:20251031`}"`]),
      'cpus = 2',
      'memory = "4G"',
      'storage = "10G"',
      '',
    ].join('\n'),
    'instruction.md': options.instruction ?? `# ${name}\n\nFix the repository so that \`make test\` passes.\n`,
    'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\nCOPY . /app\n',
    'tests/test.sh': '#!/bin/bash\npytest /tests/test_outputs.py && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    'tests/test_outputs.py': `def test_${name.replace(/[^a-z0-9]/gi, '_')}():\n    assert True\n`,
    'solution/solve.sh': '#!/bin/bash\nmake fix\n',
  };
  if (options.fixtureBytes) {
    // Varied text, so the fixture compresses about as much as real task files do.
    const line = (i: number) => `${i.toString(36)} ${name} fixture line ${(i * 2654435761) % 1000003}\n`;
    let text = '';
    for (let i = 0; text.length < options.fixtureBytes; i++) text += line(i);
    files['tests/fixtures/data.txt'] = text.slice(0, options.fixtureBytes);
  }
  return files;
}

/** Places a tree under a folder inside the zip. */
export function under(folder: string, tree: FileTree): FileTree {
  return Object.fromEntries(Object.entries(tree).map(([p, v]) => [`${folder}/${p}`, v]));
}

/** Zips a tree (entries in the given order, deflated, Unix modes: 0755 for *.sh). */
export function zip(tree: FileTree, options: { bigEntry?: { path: string; bytes: number } } = {}): Promise<Buffer> {
  const zipfile = new yazl.ZipFile();
  for (const [path, content] of Object.entries(tree)) {
    zipfile.addBuffer(Buffer.from(content), path, { mode: path.endsWith('.sh') ? 0o100755 : 0o100644 });
  }
  if (options.bigEntry) {
    // Random bytes streamed in, so the zip is as large as the entry (nothing to compress).
    let left = options.bigEntry.bytes;
    const source = new Readable({
      read() {
        if (left <= 0) return this.push(null);
        const n = Math.min(left, 1 << 20);
        left -= n;
        this.push(randomBytes(n));
      },
    });
    zipfile.addReadStream(source, options.bigEntry.path, { compress: false });
  }
  zipfile.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zipfile.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zipfile.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zipfile.outputStream.on('error', reject);
  });
}
