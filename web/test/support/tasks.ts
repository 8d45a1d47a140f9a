// Synthetic Terminal-Bench 2 task packages for browser tests, zipped in memory. A `.harbor-sim` file
// tells the Harbor simulator how the task's trials end (see runner/test/harbor-sim/harbor).
import yazl from 'yazl';

export function taskFiles(name: string, sim: Record<string, string> = {}): Record<string, string> {
  return {
    'task.toml': [
      'version = "1.0"',
      '',
      '[metadata]',
      'author_name = "Web Test"',
      'author_email = "web@example.com"',
      'difficulty = "easy"',
      'category = "software-engineering"',
      'tags = [ "web", "e2e" ]',
      '',
      '[verifier]',
      'timeout_sec = 300.0',
      '',
      '[agent]',
      'timeout_sec = 600.0',
      '',
      '[environment]',
      'build_timeout_sec = 600.0',
      `docker_image = "example/${name}:1"`,
      'cpus = 1',
      'memory = "2G"',
      'storage = "10G"',
      '',
    ].join('\n'),
    'instruction.md': `# ${name}\n\nMake **${name}** pass:\n\n- run \`make test\`\n- keep the API stable\n`,
    'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\n',
    'tests/test.sh': '#!/bin/bash\npytest /tests/test_outputs.py && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
    'tests/test_outputs.py': 'def test_ok():\n    assert True\n',
    'solution/solve.sh': '#!/bin/bash\nmake fix\n',
    ...(Object.keys(sim).length ? { '.harbor-sim': Object.entries(sim).map(([k, v]) => `${k}=${v}\n`).join('') } : {}),
  };
}

export function zipTask(name: string, sim: Record<string, string> = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [file, text] of Object.entries(taskFiles(name, sim))) {
    zip.addBuffer(Buffer.from(text), `${name}/${file}`, { mode: file.endsWith('.sh') ? 0o100755 : 0o100644 });
  }
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
