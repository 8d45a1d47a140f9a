// Live leaderboards (issue 17 item 2): the recorder's run notifications (live/hub.ts, the feed
// jobUpdated and runUpdated use) trigger a recomputation when a changed run is of one of the
// version's tasks. Throttled: the first leaderboard goes out at once, then at most one per
// THROTTLE_MS however many trials finish, since each push recomputes the whole board.
import { Repeater } from 'graphql-yoga';
import type { Context } from '../schema/context.js';
import { leaderboard, type Leaderboard, type LeaderboardOptions } from './service.js';

export const THROTTLE_MS = 2_000;

export function leaderboardUpdates(
  ctx: Pick<Context, 'db' | 'hub'>,
  versionId: string,
  options: LeaderboardOptions,
  throttleMs = THROTTLE_MS,
): Repeater<Leaderboard> {
  return new Repeater<Leaderboard>(async (push, stop) => {
    const pending = new Set<string>();
    let timer: NodeJS.Timeout | null = null;
    let lastPush = 0;
    let stopped = false;

    /** Whether any of these runs is of one of the version's tasks (one indexed look-up). */
    const touchesVersion = async (runIds: string[]) => {
      const rows = await ctx.db.$queryRaw<{ hit: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM "Run" r JOIN "DatasetTask" dt ON dt."taskId" = r."taskId"
                        WHERE r.id = ANY(${runIds}::uuid[]) AND dt."datasetVersionId" = ${versionId}::uuid) AS hit`;
      return rows[0]?.hit ?? false;
    };
    const send = async () => {
      lastPush = Date.now();
      await push(await leaderboard(ctx.db, versionId, options));
    };
    const flush = async () => {
      const runIds = [...pending];
      pending.clear();
      try {
        if (!stopped && runIds.length > 0 && (await touchesVersion(runIds)) && !stopped) await send();
      } catch (error) {
        // A failed recomputation ends this subscription with the error rather than going quiet.
        stop(error);
        return;
      } finally {
        timer = null;
      }
      if (pending.size > 0) schedule();
    };
    const schedule = () => {
      timer ??= setTimeout(() => void flush(), Math.max(0, lastPush + throttleMs - Date.now()));
    };
    // Listening before the first leaderboard is read: a run finishing meanwhile still triggers a push.
    const unlisten = ctx.hub.listen((n) => {
      if (!n.runId) return;
      pending.add(n.runId);
      schedule();
    });
    try {
      await send();
      await stop;
    } finally {
      stopped = true;
      unlisten();
      if (timer) clearTimeout(timer);
    }
  });
}
