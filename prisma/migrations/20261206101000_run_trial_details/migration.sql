-- Issue 16 item 3: Harbor's record of a trial beyond its outcome.
ALTER TABLE "Run" ADD COLUMN "agentVersion" TEXT,
ADD COLUMN "modelUsage" JSONB,
ADD COLUMN "agentMetadata" JSONB,
ADD COLUMN "exceptionTraceback" TEXT,
ADD COLUMN "exceptionOccurredAt" TIMESTAMPTZ(3),
ADD COLUMN "verifierEnvironmentMode" TEXT,
ADD COLUMN "stepResults" JSONB;
