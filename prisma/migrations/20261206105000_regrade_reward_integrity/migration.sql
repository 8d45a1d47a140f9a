-- Issue 16 items 11-12: regrade runs linked to their source, and the runner's reward-integrity flag.
-- CreateEnum
CREATE TYPE "RewardFlag" AS ENUM ('WRITTEN_BEFORE_VERIFIER', 'FILES_DISAGREE');

-- AlterTable
ALTER TABLE "Run" ADD COLUMN "regradeOfId" UUID,
ADD COLUMN "regradeTaskId" UUID,
ADD COLUMN "rewardFlag" "RewardFlag",
ADD COLUMN "rewardFlagDetail" TEXT;

-- CreateIndex
CREATE INDEX "Run_regradeOfId_idx" ON "Run"("regradeOfId");
