-- Per-test results of a run (issue 8): the verifier's tests as rows, and the suite's counts on Run
-- so lists show "3/5 tests" without reading the rows.
-- CreateEnum
CREATE TYPE "TestStatus" AS ENUM ('PASSED', 'FAILED', 'SKIPPED', 'OTHER');

-- CreateEnum
CREATE TYPE "TestsSource" AS ENUM ('CTRF', 'PYTEST');

-- AlterTable
ALTER TABLE "Run" ADD COLUMN "testsPassed" INTEGER,
ADD COLUMN "testsFailed" INTEGER,
ADD COLUMN "testsTotal" INTEGER,
ADD COLUMN "testsSource" "TestsSource",
ADD COLUMN "testsNote" TEXT;

-- CreateTable
CREATE TABLE "RunTest" (
    "runId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "status" "TestStatus" NOT NULL,
    "durationMs" INTEGER,
    "message" TEXT,

    CONSTRAINT "RunTest_pkey" PRIMARY KEY ("runId","position")
);

-- AddForeignKey
ALTER TABLE "RunTest" ADD CONSTRAINT "RunTest_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;
