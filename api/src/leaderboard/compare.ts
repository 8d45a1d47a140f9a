// Two leaderboard rows compared on their common tasks (issue 17 item 3), the way compareJobs
// compares two jobs (stats/compare.ts): per-task means paired, a bootstrap interval of the mean
// difference (pairedBootstrap), and an exact McNemar test on each task's majority pass.
import type { Db } from '../db/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { MAJORITY } from '../stats/compare.js';
import { mcnemarExactP, pairedBootstrap } from '../stats/math.js';
import { aggregate, parseRowKey, type CellFigures, type DatasetTaskRef, type RowKey } from './service.js';

export interface RowComparison {
  datasetVersionId: string;
  a: RowKey;
  b: RowKey;
  includesInfrastructure: boolean;
  /** Tasks with at least one scored trial in both rows. */
  commonTasks: number;
  /** Mean over the common tasks of row a's mean reward per task (its accuracy restricted to them). */
  meanA: number | null;
  meanB: number | null;
  /** meanB − meanA, with the 95% paired bootstrap interval over tasks. */
  difference: number | null;
  differenceLow: number | null;
  differenceHigh: number | null;
  /** Common tasks a passes by majority (pass rate > 0.5) and b does not (McNemar's b). */
  onlyA: number;
  /** Common tasks b passes by majority and a does not (McNemar's c). */
  onlyB: number;
  mcnemarP: number | null;
  onlyATasks: DatasetTaskRef[];
  onlyBTasks: DatasetTaskRef[];
}

/**
 * Compares rows `a` and `b` (leaderboard row keys) of an existing, parsed version. A key with an
 * agent version part is a row of the split leaderboard; both keys must be of the same kind.
 */
export async function compareRows(
  db: Db,
  versionId: string,
  aKey: string,
  bKey: string,
  options: { includeInfrastructure?: boolean } = {},
): Promise<RowComparison> {
  const a = parseRowKey(aKey, 'a');
  const b = parseRowKey(bKey, 'b');
  if (a.key === b.key) throw new InvalidInputError('a and b are the same row; compare two different rows', 'b');
  if ((a.agentVersion === null) !== (b.agentVersion === null)) {
    throw new InvalidInputError('a and b must both name an agent version (split leaderboard) or both leave it empty', 'b');
  }
  const includeInfrastructure = options.includeInfrastructure ?? false;
  const { tasks, rows } = await aggregate(db, versionId, { includeInfrastructure, splitByAgentVersion: a.agentVersion !== null });
  const rowA = rows.find((r) => r.key === a.key);
  const rowB = rows.find((r) => r.key === b.key);
  if (!rowA) throw new NotFoundError('leaderboard row', a.key);
  if (!rowB) throw new NotFoundError('leaderboard row', b.key);

  const mean = (cell: CellFigures) => cell.rewardSum / cell.n;
  const differences: number[] = [];
  let sumA = 0;
  let sumB = 0;
  const onlyATasks: DatasetTaskRef[] = [];
  const onlyBTasks: DatasetTaskRef[] = [];
  for (const task of tasks) {
    const cellA = rowA.cells.get(task.taskId);
    const cellB = rowB.cells.get(task.taskId);
    if (!cellA || !cellB || cellA.n === 0 || cellB.n === 0) continue;
    sumA += mean(cellA);
    sumB += mean(cellB);
    differences.push(mean(cellB) - mean(cellA));
    const passesA = cellA.c / cellA.n > MAJORITY;
    const passesB = cellB.c / cellB.n > MAJORITY;
    if (passesA && !passesB) onlyATasks.push(task);
    if (passesB && !passesA) onlyBTasks.push(task);
  }
  const common = differences.length;
  const bootstrap = pairedBootstrap(differences);
  return {
    datasetVersionId: versionId,
    a: { key: rowA.key, agent: rowA.agent, model: rowA.model, agentVersion: rowA.agentVersion },
    b: { key: rowB.key, agent: rowB.agent, model: rowB.model, agentVersion: rowB.agentVersion },
    includesInfrastructure: includeInfrastructure,
    commonTasks: common,
    meanA: common > 0 ? sumA / common : null,
    meanB: common > 0 ? sumB / common : null,
    difference: bootstrap?.mean ?? null,
    differenceLow: bootstrap?.low ?? null,
    differenceHigh: bootstrap?.high ?? null,
    onlyA: onlyATasks.length,
    onlyB: onlyBTasks.length,
    mcnemarP: common > 0 ? mcnemarExactP(onlyATasks.length, onlyBTasks.length) : null,
    onlyATasks,
    onlyBTasks,
  };
}
