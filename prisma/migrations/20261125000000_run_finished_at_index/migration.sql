-- The overview counts runs finished since midnight UTC; without this index that count reads every
-- run ever recorded.
-- CreateIndex
CREATE INDEX "Run_finishedAt_idx" ON "Run"("finishedAt");
