-- Issue 17 item 7: unique, editable job names; notes and tags on a job; archived jobs.
-- AlterTable
ALTER TABLE "Job" ADD COLUMN "notes" TEXT,
ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "archivedAt" TIMESTAMPTZ(3);

-- The first free name from `base` on: base itself, else "base (2)", "base (3)", … compared regardless of
-- case; `self` is the job being named (its own name never counts as taken).
CREATE FUNCTION "job_free_name"(base TEXT, self UUID) RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    n INT := 1;
    candidate TEXT := base;
BEGIN
    WHILE EXISTS (SELECT 1 FROM "Job" WHERE lower(name) = lower(candidate) AND id IS DISTINCT FROM self) LOOP
        n := n + 1;
        candidate := base || ' (' || n || ')';
    END LOOP;
    RETURN candidate;
END $$;

-- Existing duplicates: the oldest keeps its name, the others become " (2)", " (3)", … in launch order.
DO $$
DECLARE
    dup RECORD;
BEGIN
    FOR dup IN
        SELECT id FROM (
            SELECT id, row_number() OVER (PARTITION BY lower(name) ORDER BY "createdAt", id) AS n FROM "Job"
        ) ranked WHERE n > 1 ORDER BY n, id
    LOOP
        UPDATE "Job" SET name = "job_free_name"(name, id) WHERE id = dup.id;
    END LOOP;
END $$;

-- Every insert gets a free name: createJob refuses an explicit name that is taken before it inserts
-- (JOB_NAME_EXISTS), so what this renames is a generated name ("agent · model") or a row written
-- without the service (fixtures, scripts), which keep working. A rename (UPDATE) is not rewritten:
-- the unique index below refuses a taken name.
CREATE FUNCTION "job_name_before_insert"() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := "job_free_name"(NEW.name, NEW.id);
    RETURN NEW;
END $$;
CREATE TRIGGER "Job_free_name" BEFORE INSERT ON "Job" FOR EACH ROW EXECUTE FUNCTION "job_name_before_insert"();

-- CreateIndex
-- Names are unique regardless of case (as dataset and user names), and looked up that way.
CREATE UNIQUE INDEX "Job_lower_name_key" ON "Job"(lower("name"));

-- CreateIndex
CREATE INDEX "Job_tags_idx" ON "Job" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "Job_archivedAt_createdAt_idx" ON "Job"("archivedAt", "createdAt");
