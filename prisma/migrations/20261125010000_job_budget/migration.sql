-- A job's optional budget and why it stopped early. The unused "costCapUsd" column of the first
-- migration becomes "budgetUsd" (same type), so no data moves.
-- CreateEnum
CREATE TYPE "JobStopReason" AS ENUM ('BUDGET_REACHED');

-- AlterTable
ALTER TABLE "Job" RENAME COLUMN "costCapUsd" TO "budgetUsd";
ALTER TABLE "Job" ADD COLUMN "stopReason" "JobStopReason",
ADD COLUMN "stopMessage" TEXT;
