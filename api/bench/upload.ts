// Upload benchmark: 100 typical tasks (~15 KB each) in one request, then one 50 MB task, each
// against a fresh API process (built, plain node) whose peak RSS (VmHWM) is read from /proc. The
// baseline, measured in the same run on the same zips, is a bare unzip to disk with yauzl (no
// validation, no database), so the ratio says what validation, hashing and storage cost on top.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { tb2Task, under, zip } from '../test/support/task-zips.js';
import { uploadZips, type ZipUpload } from '../test/support/upload.js';
import { deploy, memoryMiB } from './deployment.js';

const MiB = 1024 * 1024;

/** Unzips every entry to disk, nothing else: the floor any upload path has to pay. */
async function bareUnzip(zips: ZipUpload[], dir: string): Promise<void> {
  for (const [i, z] of zips.entries()) {
    const file = path.join(dir, `${i}.zip`);
    await writeFile(file, z.bytes);
    const zipfile = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(file, { lazyEntries: true }, (err, zf) => (err ? reject(err) : resolve(zf))),
    );
    await new Promise<void>((resolve, reject) => {
      zipfile.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zipfile.readEntry();
        const target = path.join(dir, String(i), entry.fileName);
        zipfile.openReadStream(entry, async (err, stream) => {
          if (err) return reject(err);
          await mkdir(path.dirname(target), { recursive: true });
          await pipeline(stream, createWriteStream(target));
          zipfile.readEntry();
        });
      });
      zipfile.on('end', resolve);
      zipfile.on('error', reject);
      zipfile.readEntry();
    });
    zipfile.close();
  }
}

interface Scenario {
  label: string;
  zips: ZipUpload[];
  tasks: number;
}

async function runScenario(scenario: Scenario): Promise<{ seconds: number; idleMiB: number; rssMiB: number; baseline: number }> {
  // A fresh, built API per scenario, so each peak RSS is its own.
  const d = await deploy('upload');
  try {
    const idleMiB = (await memoryMiB(d.api.child.pid!)).peak;
    const started = performance.now();
    const { status, body } = await uploadZips(d.url, scenario.zips, 'created rejected');
    const seconds = (performance.now() - started) / 1000;
    const created = body?.data?.uploadTasks?.data?.created;
    if (status !== 200 || created !== scenario.tasks) {
      throw new Error(`${scenario.label}: expected ${scenario.tasks} created, got ${JSON.stringify(body).slice(0, 500)}`);
    }
    const rssMiB = (await memoryMiB(d.api.child.pid!)).peak;

    const baselineDir = path.join(d.scratch, 'baseline');
    await mkdir(baselineDir);
    const baselineStart = performance.now();
    await bareUnzip(scenario.zips, baselineDir);
    const baseline = (performance.now() - baselineStart) / 1000;
    return { seconds, idleMiB, rssMiB, baseline };
  } finally {
    await d.stop();
  }
}

export async function benchUpload(): Promise<void> {
  const typical = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => ({
      name: `typical-${i}.zip`,
      bytes: await zip(under(`typical-${i}`, tb2Task(`typical-${i}`, { fixtureBytes: 14_000 }))),
    })),
  );
  const big = [{ name: 'big.zip', bytes: await zip(under('big-task', tb2Task('big-task')), { bigEntry: { path: 'big-task/tests/weights.bin', bytes: 50 * MiB } }) }];
  const scenarios: Scenario[] = [
    { label: '100 typical tasks, one request', zips: typical, tasks: 100 },
    { label: 'one 50 MB task', zips: big, tasks: 1 },
  ];
  console.log('upload benchmark (API in its own process; baseline = bare yauzl unzip of the same zips)');
  console.log(`  typical zip: ${(typical[0]!.bytes.length / 1024).toFixed(1)} KiB; big zip: ${(big[0]!.bytes.length / MiB).toFixed(1)} MiB`);
  for (const scenario of scenarios) {
    const r = await runScenario(scenario);
    console.log(
      `  ${scenario.label.padEnd(32)} wall ${r.seconds.toFixed(2)} s  ${(scenario.tasks / r.seconds).toFixed(1)} tasks/s  ` +
        `API peak RSS ${r.rssMiB.toFixed(0)} MiB (idle ${r.idleMiB.toFixed(0)})  baseline ${r.baseline.toFixed(2)} s  ratio ${(r.seconds / r.baseline).toFixed(1)}x`,
    );
  }
}
