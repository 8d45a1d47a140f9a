-- Issue 17: datasets (named, versioned task lists) and the version a job was launched on.
-- CreateEnum
CREATE TYPE "DatasetSource" AS ENUM ('UPLOAD', 'LIBRARY', 'MANUAL', 'FOLDER', 'MANIFEST');

-- CreateTable
CREATE TABLE "Dataset" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdById" UUID,

    CONSTRAINT "Dataset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetVersion" (
    "id" UUID NOT NULL,
    "datasetId" UUID NOT NULL,
    "version" TEXT NOT NULL,
    "description" TEXT,
    "source" "DatasetSource" NOT NULL,
    "sourceDetail" TEXT,
    "taskCount" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdById" UUID,

    CONSTRAINT "DatasetVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DatasetTask" (
    "datasetVersionId" UUID NOT NULL,
    "taskId" UUID NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "DatasetTask_pkey" PRIMARY KEY ("datasetVersionId","taskId")
);

-- AlterTable
ALTER TABLE "Job" ADD COLUMN "datasetVersionId" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "Dataset_name_key" ON "Dataset"("name");
-- Names are unique regardless of case.
CREATE UNIQUE INDEX "Dataset_lower_name_key" ON "Dataset"(lower("name"));

-- CreateIndex
CREATE INDEX "DatasetVersion_datasetId_createdAt_idx" ON "DatasetVersion"("datasetId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetVersion_datasetId_version_key" ON "DatasetVersion"("datasetId", "version");

-- CreateIndex
CREATE INDEX "DatasetTask_taskId_idx" ON "DatasetTask"("taskId");

-- CreateIndex
CREATE UNIQUE INDEX "DatasetTask_datasetVersionId_name_key" ON "DatasetTask"("datasetVersionId", "name");

-- CreateIndex
CREATE INDEX "Job_datasetVersionId_idx" ON "Job"("datasetVersionId");

-- AddForeignKey
ALTER TABLE "Job" ADD CONSTRAINT "Job_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "DatasetVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Dataset" ADD CONSTRAINT "Dataset_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetVersion" ADD CONSTRAINT "DatasetVersion_datasetId_fkey" FOREIGN KEY ("datasetId") REFERENCES "Dataset"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetVersion" ADD CONSTRAINT "DatasetVersion_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetTask" ADD CONSTRAINT "DatasetTask_datasetVersionId_fkey" FOREIGN KEY ("datasetVersionId") REFERENCES "DatasetVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DatasetTask" ADD CONSTRAINT "DatasetTask_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
