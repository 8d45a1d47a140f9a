-- Issue 16 items 9-10: multi-step tasks (their steps, shown on the task page) and Terminal-Bench 1
-- tasks converted on upload (marked, with a note of what changed).
ALTER TABLE "Task" ADD COLUMN "steps" JSONB;
ALTER TABLE "Task" ADD COLUMN "convertedFrom" TEXT;
ALTER TABLE "Task" ADD COLUMN "conversionNotes" JSONB;
