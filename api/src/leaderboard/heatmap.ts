// The task × row heatmap of a dataset version (issue 17 item 3): the same per row × task aggregate
// as the leaderboard (service.ts), laid out per task, with the numbers a page sorts by (difficulty,
// disagreement) and flags for tasks that tell the rows apart poorly.
import type { Db } from '../db/client.js';
import { disagreement } from './math.js';
import { aggregate, rankRows, combineRow, type LeaderboardOptions, type RowKey } from './service.js';

export type HeatmapFlag = 'NEVER_SOLVED' | 'ALWAYS_SOLVED' | 'FLAKY';

export interface HeatmapCell {
  key: string;
  /** Scored trials of the task by this column; 0 when it never ran it. */
  n: number;
  passed: number;
  passRate: number | null;
  meanReward: number | null;
  /** Some of its trials passed and some did not: 0 < passed < n. */
  flaky: boolean;
}

export interface HeatmapTask {
  taskId: string;
  name: string;
  /** Mean over the columns that ran the task of their pass rates; null when none did. */
  meanPassRate: number | null;
  /** 2 × the standard deviation of those pass rates (math.ts disagreement); null below two columns. */
  disagreement: number | null;
  flags: HeatmapFlag[];
  cells: HeatmapCell[];
}

export interface Heatmap {
  datasetVersionId: string;
  /** In the leaderboard's order: complete rows by accuracy, then incomplete ones. */
  columns: RowKey[];
  /** The version's tasks by name. */
  tasks: HeatmapTask[];
}

/** Columns are agent × model unless `splitByAgentVersion` asks for one per agent version too. */
export async function heatmap(db: Db, versionId: string, options: LeaderboardOptions = {}): Promise<Heatmap> {
  const split = options.splitByAgentVersion ?? false;
  const { tasks, rows } = await aggregate(db, versionId, { ...options, splitByAgentVersion: split });
  const ordered = rankRows(rows.map((row) => ({ ...combineRow(row, tasks.length), cells: row.cells })));
  const columns = ordered.map(({ key, agent, model, agentVersion }) => ({ key, agent, model, agentVersion }));
  return {
    datasetVersionId: versionId,
    columns,
    tasks: tasks.map(({ taskId, name }) => {
      const cells = ordered.map((row): HeatmapCell => {
        const figures = row.cells.get(taskId);
        const n = figures?.n ?? 0;
        const passed = figures?.c ?? 0;
        return {
          key: row.key,
          n,
          passed,
          passRate: n > 0 ? passed / n : null,
          meanReward: n > 0 ? figures!.rewardSum / n : null,
          flaky: passed > 0 && passed < n,
        };
      });
      const ran = cells.filter((c) => c.n > 0);
      const rates = ran.map((c) => c.passRate!);
      const flags: HeatmapFlag[] = [];
      if (ran.length > 0 && ran.every((c) => c.passed === 0)) flags.push('NEVER_SOLVED');
      // Non-discriminating: every column ran it and every trial passed.
      if (cells.length > 0 && cells.every((c) => c.n > 0 && c.passed === c.n)) flags.push('ALWAYS_SOLVED');
      if (cells.some((c) => c.flaky)) flags.push('FLAKY');
      return {
        taskId,
        name,
        meanPassRate: rates.length > 0 ? rates.reduce((s, p) => s + p, 0) / rates.length : null,
        disagreement: disagreement(rates),
        flags,
        cells,
      };
    }),
  };
}
