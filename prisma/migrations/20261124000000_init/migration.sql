-- CreateEnum
CREATE TYPE "Difficulty" AS ENUM ('EASY', 'MEDIUM', 'HARD', 'UNKNOWN');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'CANCELLING', 'CANCELLED');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('QUEUED', 'CLAIMED', 'RUNNING', 'PASSED', 'FAILED', 'ERRORED', 'CANCELLED');

-- CreateEnum
CREATE TYPE "FailureKind" AS ENUM ('AGENT', 'INFRASTRUCTURE');

-- CreateTable
CREATE TABLE "Task" (
    "id" UUID NOT NULL,
    "contentHash" CHAR(64) NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "difficulty" "Difficulty" NOT NULL DEFAULT 'UNKNOWN',
    "category" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "instruction" TEXT NOT NULL,
    "agentTimeoutSec" DOUBLE PRECISION,
    "verifierTimeoutSec" DOUBLE PRECISION,
    "buildTimeoutSec" DOUBLE PRECISION,
    "cpus" DOUBLE PRECISION,
    "memoryMb" INTEGER,
    "storageMb" INTEGER,
    "dockerImage" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "sizeBytes" BIGINT NOT NULL,
    "fileCount" INTEGER NOT NULL,
    "uploadFileName" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "agent" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "runsPerTask" INTEGER NOT NULL,
    "harborOptions" JSONB NOT NULL DEFAULT '{}',
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "runsTotal" INTEGER NOT NULL DEFAULT 0,
    "runsQueued" INTEGER NOT NULL DEFAULT 0,
    "runsClaimed" INTEGER NOT NULL DEFAULT 0,
    "runsRunning" INTEGER NOT NULL DEFAULT 0,
    "runsPassed" INTEGER NOT NULL DEFAULT 0,
    "runsFailed" INTEGER NOT NULL DEFAULT 0,
    "runsErrored" INTEGER NOT NULL DEFAULT 0,
    "runsCancelled" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" BIGINT NOT NULL DEFAULT 0,
    "cacheTokens" BIGINT NOT NULL DEFAULT 0,
    "outputTokens" BIGINT NOT NULL DEFAULT 0,
    "costUsd" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "costCapUsd" DECIMAL(14,6),
    "providerSecretId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),
    "cancelRequestedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "taskId" UUID NOT NULL,
    "repeat" INTEGER NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "retryOfId" UUID,
    "status" "RunStatus" NOT NULL DEFAULT 'QUEUED',
    "rewards" JSONB,
    "reward" DOUBLE PRECISION,
    "exceptionType" TEXT,
    "exceptionMessage" TEXT,
    "failureKind" "FailureKind",
    "inputTokens" INTEGER,
    "cacheTokens" INTEGER,
    "outputTokens" INTEGER,
    "costUsd" DECIMAL(14,6),
    "environmentSetupMs" INTEGER,
    "agentSetupMs" INTEGER,
    "agentExecutionMs" INTEGER,
    "verifierMs" INTEGER,
    "runnerId" TEXT,
    "deliveryCount" INTEGER NOT NULL DEFAULT 0,
    "lastEventSeq" BIGINT NOT NULL DEFAULT 0,
    "harborTrialDir" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatchedAt" TIMESTAMPTZ(3),
    "claimedAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProviderSecret" (
    "id" UUID NOT NULL,
    "provider" TEXT NOT NULL,
    "ciphertext" TEXT NOT NULL,
    "hint" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ProviderSecret_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Task_contentHash_key" ON "Task"("contentHash");

-- CreateIndex
CREATE INDEX "Task_name_idx" ON "Task"("name");

-- CreateIndex
CREATE INDEX "Task_category_idx" ON "Task"("category");

-- CreateIndex
CREATE INDEX "Task_difficulty_idx" ON "Task"("difficulty");

-- CreateIndex
CREATE INDEX "Task_createdAt_idx" ON "Task"("createdAt");

-- CreateIndex
CREATE INDEX "Job_status_createdAt_idx" ON "Job"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Job_createdAt_idx" ON "Job"("createdAt");

-- CreateIndex
CREATE INDEX "Job_model_idx" ON "Job"("model");

-- CreateIndex
CREATE INDEX "Run_jobId_status_idx" ON "Run"("jobId", "status");

-- CreateIndex
CREATE INDEX "Run_jobId_taskId_idx" ON "Run"("jobId", "taskId");

-- CreateIndex
CREATE INDEX "Run_taskId_idx" ON "Run"("taskId");

-- CreateIndex
CREATE INDEX "Run_status_dispatchedAt_idx" ON "Run"("status", "dispatchedAt");

-- CreateIndex
CREATE UNIQUE INDEX "Run_jobId_taskId_repeat_attempt_key" ON "Run"("jobId", "taskId", "repeat", "attempt");

-- CreateIndex
CREATE INDEX "ProviderSecret_provider_idx" ON "ProviderSecret"("provider");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_providerSecretId_fkey" FOREIGN KEY ("providerSecretId") REFERENCES "ProviderSecret"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
