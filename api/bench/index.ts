// `npm run bench [-- <part>]`: prints figures for BENCHMARKS.md. Parts: upload, jobs.
import { benchJobs } from './jobs.js';
import { benchUpload } from './upload.js';

const parts: Record<string, () => Promise<void>> = { upload: benchUpload, jobs: benchJobs };
const chosen = process.argv.slice(2);
const unknown = chosen.filter((p) => !(p in parts));
if (unknown.length > 0) {
  console.error(`unknown benchmark part(s): ${unknown.join(', ')}; choose from ${Object.keys(parts).join(', ')}`);
  process.exit(2);
}
for (const name of chosen.length > 0 ? chosen : Object.keys(parts)) await parts[name]!();
