-- The reconciler (DESIGN.md §2.8): a run's dispatch number, so a re-published order outranks every
-- delivery of the one it replaces; and a job's mark for cancellations NATS has not recorded yet.
-- AlterTable
ALTER TABLE "Run" ADD COLUMN "dispatch" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "cancelsUnrecordedSince" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "Job_cancelsUnrecordedSince_idx" ON "Job"("cancelsUnrecordedSince");
