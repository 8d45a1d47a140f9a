// GraphQL selections and types for the task library, uploads and the task page.
export type Difficulty = 'EASY' | 'MEDIUM' | 'HARD' | 'UNKNOWN';
export const DIFFICULTIES: Difficulty[] = ['EASY', 'MEDIUM', 'HARD', 'UNKNOWN'];

export type TaskOrder = 'CREATED_AT_ASC' | 'CREATED_AT_DESC' | 'NAME_ASC' | 'NAME_DESC' | 'SIZE_DESC';
export const TASK_ORDERS: TaskOrder[] = ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'NAME_ASC', 'NAME_DESC', 'SIZE_DESC'];

export interface Problem {
  code: string;
  message: string;
  path: string | null;
}

export const PROBLEM_FIELDS = 'code message path';

export interface TaskRow {
  id: string;
  name: string;
  category: string | null;
  difficulty: Difficulty;
  tags: string[];
  fileCount: number;
  sizeBytes: number;
  runCount: number;
  createdAt: string;
}

export const TASK_ROW = 'id name category difficulty tags fileCount sizeBytes runCount createdAt';

export interface TaskFile {
  path: string;
  sizeBytes: number;
  executable: boolean;
}

/** A verifier test of the task and how often it failed across all jobs (latest finished attempts). */
export interface TaskFailingTest {
  name: string;
  failures: number;
  runs: number;
  lastMessage: string | null;
  sampleRunId: string;
}

export interface TaskDetail extends TaskRow {
  failingTests: TaskFailingTest[];
  description: string | null;
  contentHash: string;
  instruction: string;
  config: Record<string, unknown>;
  agentTimeoutSec: number | null;
  verifierTimeoutSec: number | null;
  buildTimeoutSec: number | null;
  cpus: number | null;
  memoryMb: number | null;
  storageMb: number | null;
  dockerImage: string | null;
  uploadFileName: string | null;
  uploadRootPath: string | null;
  warnings: Problem[];
  files: TaskFile[];
}

export const TASK_DETAIL = `${TASK_ROW} description contentHash instruction config agentTimeoutSec verifierTimeoutSec
  buildTimeoutSec cpus memoryMb storageMb dockerImage uploadFileName uploadRootPath
  warnings { ${PROBLEM_FIELDS} } files { path sizeBytes executable }
  failingTests(first: 10) { name failures runs lastMessage sampleRunId }`;

export type UploadStatus = 'CREATED' | 'DUPLICATE' | 'REJECTED';

export interface UploadedTask {
  name: string;
  rootPath: string;
  status: UploadStatus;
  task: { id: string; name: string } | null;
  errors: Problem[];
  warnings: Problem[];
}

export interface UploadedFile {
  fileName: string;
  sizeBytes: number;
  errors: Problem[];
  warnings: Problem[];
  tasks: UploadedTask[];
}

export const UPLOADED_FILE_FIELDS = `fileName sizeBytes errors { ${PROBLEM_FIELDS} } warnings { ${PROBLEM_FIELDS} }
  tasks { name rootPath status task { id name } errors { ${PROBLEM_FIELDS} } warnings { ${PROBLEM_FIELDS} } }`;

export const UPLOAD_CUE: Record<UploadStatus, { symbol: string; label: string; css: string }> = {
  CREATED: { symbol: '✓', label: 'created', css: 'passed' },
  DUPLICATE: { symbol: '=', label: 'duplicate', css: 'cancelled' },
  REJECTED: { symbol: '✗', label: 'rejected', css: 'failed' },
};

export const DIFFICULTY_LABEL: Record<Difficulty, string> = { EASY: 'easy', MEDIUM: 'medium', HARD: 'hard', UNKNOWN: 'unknown' };
