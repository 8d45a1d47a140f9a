-- Attempts (DESIGN.md §4): each run says whether it is the attempt its repeat counts, one a retry
-- replaced (an infrastructure error or a cancellation), or an extra attempt after a fair try.
-- And createJob's idempotency key.
-- CreateEnum
CREATE TYPE "AttemptRole" AS ENUM ('COUNTED', 'REPLACED', 'EXTRA');

-- AlterTable
ALTER TABLE "Run" ADD COLUMN "attemptRole" "AttemptRole" NOT NULL DEFAULT 'COUNTED';

-- Existing retries under the rule: a repeat counts its first fair try (PASSED, FAILED, or ERRORED not
-- blamed on the infrastructure); attempts before it were replaced, attempts after it are extra. A
-- repeat without a fair try counts its latest attempt. Repeats of one attempt keep COUNTED.
WITH attempts AS (
  SELECT id, attempt,
         min(attempt) FILTER (WHERE fair) OVER repeat AS "firstFair",
         max(attempt) OVER repeat AS latest
    FROM (SELECT r.id, r."jobId", r."taskId", r.repeat, r.attempt,
                 (r.status IN ('PASSED', 'FAILED') OR (r.status = 'ERRORED' AND r."failureKind" IS DISTINCT FROM 'INFRASTRUCTURE')) AS fair
            FROM "Run" r) runs
  WINDOW repeat AS (PARTITION BY "jobId", "taskId", repeat)
)
UPDATE "Run" r
   SET "attemptRole" = (CASE
         WHEN a."firstFair" IS NULL THEN CASE WHEN a.attempt = a.latest THEN 'COUNTED' ELSE 'REPLACED' END
         WHEN a.attempt = a."firstFair" THEN 'COUNTED'
         WHEN a.attempt < a."firstFair" THEN 'REPLACED'
         ELSE 'EXTRA'
       END)::"AttemptRole"
  FROM attempts a
 WHERE r.id = a.id AND a.latest > 1;

-- CreateIndex
CREATE INDEX "Run_jobId_attemptRole_status_idx" ON "Run"("jobId", "attemptRole", "status");

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "idempotencyKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Job_idempotencyKey_key" ON "Job"("idempotencyKey");
