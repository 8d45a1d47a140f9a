-- The reconciler (DESIGN.md §2.8): a run's dispatch number, so a re-published order outranks every
-- delivery of the one it replaces; a job's mark for cancellations NATS has not recorded yet; and the
-- lease that lets one API replica's reconciler act at a time.
-- AlterTable
ALTER TABLE "Run" ADD COLUMN "dispatch" INTEGER NOT NULL DEFAULT 1;

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "cancelsUnrecordedSince" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "Job_cancelsUnrecordedSince_idx" ON "Job"("cancelsUnrecordedSince");

-- CreateTable
CREATE TABLE "ReconcilerLease" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "holder" TEXT NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ReconcilerLease_pkey" PRIMARY KEY ("id")
);
