// Tasks for the benchmarks: rows only (the dispatcher and launch never read a task's files).
import { randomBytes } from 'node:crypto';
import type { Db } from '../src/db/client.js';

export async function seedTasks(db: Db, count: number): Promise<string[]> {
  await db.task.createMany({
    data: Array.from({ length: count }, (_, i) => ({
      contentHash: randomBytes(32).toString('hex'),
      name: `bench-${i}`,
      instruction: 'x',
      sizeBytes: 1n,
      fileCount: 1,
      agentTimeoutSec: 900,
    })),
  });
  return (await db.task.findMany({ select: { id: true } })).map((t) => t.id);
}
