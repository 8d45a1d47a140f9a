// GraphQL selections and types for the task library, uploads and the task page.
import { graphql, type ResultOf } from '$lib/graphql/graphql';

export type Difficulty = 'EASY' | 'MEDIUM' | 'HARD' | 'UNKNOWN';
export const DIFFICULTIES: Difficulty[] = ['EASY', 'MEDIUM', 'HARD', 'UNKNOWN'];

export type TaskOrder = 'CREATED_AT_ASC' | 'CREATED_AT_DESC' | 'NAME_ASC' | 'NAME_DESC' | 'SIZE_DESC';
export const TASK_ORDERS: TaskOrder[] = ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'NAME_ASC', 'NAME_DESC', 'SIZE_DESC'];

export const ProblemFields = graphql(`fragment Problem on UploadProblem { code message path }`);
export type Problem = ResultOf<typeof ProblemFields>;

export const TaskRowFields = graphql(`
  fragment TaskRow on Task { id name category difficulty tags fileCount sizeBytes runCount createdAt }
`);
export type TaskRow = ResultOf<typeof TaskRowFields>;

/** What the task page shows of a task's format: runtime needs, steps, and a TB1 conversion. */
export const TaskFormatFields = graphql(`
  fragment TaskFormat on Task {
    os gpus gpuTypes multiStepRewardStrategy convertedFrom originalUrl
    conversionNotes { kind message }
    steps {
      name instruction instructionTruncated agentTimeoutSec verifierTimeoutSec minReward tests solution files
      agentNetwork { mode allowedHosts } verifierNetwork { mode allowedHosts }
    }
  }
`);
export type TaskFormat = ResultOf<typeof TaskFormatFields>;
export type TaskStep = NonNullable<TaskFormat['steps']>[number];

export const TaskDetailFields = graphql(
  `
  fragment TaskDetail on Task {
    ...TaskRow
    description contentHash instruction config agentTimeoutSec verifierTimeoutSec
    buildTimeoutSec cpus memoryMb storageMb dockerImage uploadFileName uploadRootPath
    warnings { ...Problem } files { path sizeBytes executable }
    failingTests(first: 10) { name failures runs lastMessage sampleRunId }
    createdBy { id name }
    ...TaskFormat
  }
`,
  [TaskRowFields, ProblemFields, TaskFormatFields],
);
export type TaskDetail = ResultOf<typeof TaskDetailFields>;
export type TaskFile = TaskDetail['files'][number];

export type UploadStatus = 'CREATED' | 'DUPLICATE' | 'REJECTED';

export const UploadedFileFields = graphql(
  `
  fragment UploadedFile on UploadedFile {
    fileName sizeBytes errors { ...Problem } warnings { ...Problem }
    tasks { name rootPath status task { id name convertedFrom } errors { ...Problem } warnings { ...Problem } }
  }
`,
  [ProblemFields],
);
export type UploadedFile = ResultOf<typeof UploadedFileFields>;

export const UPLOAD_CUE: Record<UploadStatus, { symbol: string; label: string; css: string }> = {
  CREATED: { symbol: '✓', label: 'created', css: 'passed' },
  DUPLICATE: { symbol: '=', label: 'duplicate', css: 'cancelled' },
  REJECTED: { symbol: '✗', label: 'rejected', css: 'failed' },
};

export const DIFFICULTY_LABEL: Record<Difficulty, string> = { EASY: 'easy', MEDIUM: 'medium', HARD: 'hard', UNKNOWN: 'unknown' };
