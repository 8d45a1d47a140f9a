-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "files" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "uploadRootPath" TEXT,
ADD COLUMN     "warnings" JSONB NOT NULL DEFAULT '[]';

-- CreateIndex
CREATE INDEX "Task_tags_idx" ON "Task" USING GIN ("tags");
