// `npm run bench [-- <part>] [--quick]`: prints figures for BENCHMARKS.md. Parts: upload, jobs,
// dispatch, logs, platform (--quick skips its 600-trial scale scenario), stats, leaderboard, and
// containers (the compose stack against host processes; needs podman, about 10 minutes, so only
// when named).
import { benchContainers } from './containers.js';
import { benchDispatch } from './dispatch.js';
import { benchJobs } from './jobs.js';
import { benchLeaderboard } from './leaderboard.js';
import { benchLogs } from './logs.js';
import { describeMachine } from './machine.js';
import { benchPlatform } from './platform.js';
import { benchStats } from './stats.js';
import { benchUpload } from './upload.js';

const parts: Record<string, () => Promise<void>> = { upload: benchUpload, jobs: benchJobs, dispatch: benchDispatch, platform: benchPlatform, logs: benchLogs, stats: benchStats, leaderboard: benchLeaderboard, containers: benchContainers };
const onlyWhenNamed = new Set(['containers']);
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = chosen.filter((p) => !(p in parts));
if (unknown.length > 0) {
  console.error(`unknown benchmark part(s): ${unknown.join(', ')}; choose from ${Object.keys(parts).join(', ')}`);
  process.exit(2);
}
console.log(describeMachine());
for (const name of chosen.length > 0 ? chosen : Object.keys(parts).filter((p) => !onlyWhenNamed.has(p))) await parts[name]!();
