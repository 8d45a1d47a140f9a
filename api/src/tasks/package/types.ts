// The public shapes of the task-package reader (re-exported by index.ts).
import type { PackageLimits, UploadBudget } from './limits.js';
import type { Problem } from './problems.js';
import type { TaskConfig } from './task-config.js';
import type { TaskStepSummary } from './step-summary.js';
import type { ConversionNote } from './tb1-stage.js';

export interface TaskFile {
  /** Relative to the task root, '/'-separated. */
  path: string;
  size: number;
  executable: boolean;
}

export interface ExtractedTask {
  name: string;
  /** The task root inside the zip after normalisation: '' for files at the root, else e.g. 'repo-main/fix-git'. */
  rootPath: string;
  /** Non-empty => rejected; lists every reason found. */
  errors: Problem[];
  warnings: Problem[];
  // Present only when the task and its archive have no errors:
  /** Absolute path of a folder named `name` holding exactly the task's files, inside workDir. */
  dir?: string;
  contentHash?: string;
  /** Sorted by path (UTF-8 byte order). */
  files?: TaskFile[];
  sizeBytes?: number;
  config?: TaskConfig;
  /** instruction.md as UTF-8 text (a leading BOM removed; the stored file keeps it); '' for a multi-step task without one. */
  instruction?: string;
  /** The steps of a multi-step task, null for a single-step one. */
  steps?: TaskStepSummary[] | null;
  /** Set when the upload was a Terminal-Bench 1 task converted to these files. */
  conversion?: { from: 'TB1'; notes: ConversionNote[] };
}

export interface ExtractedArchive {
  fileName: string;
  /** Archive-level problems; non-empty => every task of the archive is rejected too. */
  errors: Problem[];
  warnings: Problem[];
  tasks: ExtractedTask[];
  /** Decompressed bytes actually streamed. */
  uncompressedBytes: number;
}

export interface ExtractOptions {
  /** The uploaded file's name, e.g. 'fix-git.zip': names files-at-root tasks. */
  fileName: string;
  /** An existing empty folder; the caller deletes it afterwards. */
  workDir: string;
  limits?: PackageLimits;
  /** Shared by all archives of one request; every streamed byte is taken from it. */
  budget?: UploadBudget;
  /** Stops promptly; the promise then rejects with the abort reason. */
  signal?: AbortSignal;
}
