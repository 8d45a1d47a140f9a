// Leaderboard figures are read far more often than they change (every viewer of a dataset's pages,
// every live subscriber, notebooks polling), and each computation reads every counted trial of the
// version. So the per row × task aggregates are kept per database and reused while nothing that
// could change them has changed.
//
// What could change them is a run being written, and every such write moves its job's run counters
// in the same transaction (runs/lifecycle.ts transition, jobs/launch.ts, retries, regrades, deletes).
// The stamp is therefore the sums of those counters over all jobs, with their count: read BEFORE a
// computation, a later equal stamp means no run was written since, so the figures are as fresh as
// a new computation's. A write during the computation leaves the stored stamp behind and the next
// read recomputes: a figure is never served older than the last write it could have seen.
import type { Db } from '../db/client.js';

/** Distinct boards kept per database (dataset versions × filter options); the least recently used goes first. */
export const MAX_CACHED = 64;

interface Entry<T> {
  stamp: string;
  value: Promise<T>;
}

const byDatabase = new WeakMap<Db, Map<string, Entry<unknown>>>();

/** Counters of every job, summed: any run written, job launched or deleted changes it. */
export async function runsStamp(db: Db): Promise<string> {
  const rows = await db.$queryRaw<{ stamp: string }[]>`
    SELECT concat_ws(':', count(*), sum("runsTotal"), sum("runsQueued"), sum("runsClaimed"), sum("runsRunning"), sum("runsPassed"),
                     sum("runsFailed"), sum("runsErrored"), sum("runsCancelled"), sum("costUsd"), max("createdAt")) AS stamp
      FROM "Job"`;
  return rows[0]?.stamp ?? '';
}

/**
 * `compute()`'s result for `key`, reused while the runs stamp is unchanged. Concurrent callers with
 * the same stamp share one computation; a failed one is not kept.
 */
export async function cachedByRuns<T>(db: Db, key: string, compute: () => Promise<T>): Promise<T> {
  let cache = byDatabase.get(db);
  if (!cache) {
    cache = new Map();
    byDatabase.set(db, cache);
  }
  const stamp = await runsStamp(db);
  const found = cache.get(key) as Entry<T> | undefined;
  if (found && found.stamp === stamp) {
    // Most recently used last: the Map's insertion order is the eviction order.
    cache.delete(key);
    cache.set(key, found);
    return found.value;
  }
  const entry: Entry<T> = { stamp, value: compute() };
  cache.delete(key);
  cache.set(key, entry);
  while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  entry.value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return entry.value;
}
