// Applies a TB1 conversion plan (tasks/tb1/convert.ts) to a streamed task folder: writes the TB2
// files into a fresh folder (copied files keep their bytes and hashes), and zips the original
// entries so the task page can offer them for download.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, writeFile, constants } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { planTb1Conversion, TEXT_FILES, type ConversionNote } from '../tb1/convert.js';
import { ancestors } from './entries.js';
import { fileMode, safeJoin, type StreamedFile } from './extract.js';
import { basename } from './layout.js';
import { MAX_TEXT_FILE_BYTES } from './limits.js';
import { messages, problem, type Problem } from './problems.js';
import type { TaskTree } from './task-checks.js';

export type { ConversionNote } from '../tb1/convert.js';

export interface ConvertedStage {
  stage: string;
  tree: TaskTree;
  streamed: Map<string, StreamedFile>;
  executable: Map<string, boolean>;
  notes: ConversionNote[];
}

/** The few files the conversion reads as text: TB1's own files and every Dockerfile. */
function isTextInput(rel: string): boolean {
  return TEXT_FILES.includes(rel) || basename(rel).startsWith('Dockerfile');
}

/**
 * Converts the TB1 files streamed into `stage` into `out`. Returns the converted folder, or the
 * reasons it cannot be converted (tb1_not_convertible, paths inside the zip).
 */
export async function convertStage(
  stage: string,
  streamed: Map<string, StreamedFile>,
  executable: Map<string, boolean>,
  out: string,
  zipPath: (rel: string) => string,
): Promise<ConvertedStage | { errors: Problem[] }> {
  const texts = new Map<string, string>();
  const errors: Problem[] = [];
  for (const [rel, file] of streamed) {
    if (!isTextInput(rel)) continue;
    if (file.size > MAX_TEXT_FILE_BYTES) {
      errors.push(problem('tb1_not_convertible', messages.textTooLarge(rel, MAX_TEXT_FILE_BYTES), zipPath(rel)));
      continue;
    }
    try {
      texts.set(rel, new TextDecoder('utf-8', { fatal: true }).decode(await readFile(safeJoin(stage, rel))));
    } catch {
      errors.push(problem('tb1_not_convertible', messages.tb1NotConvertible(`${rel} is not UTF-8 text`), zipPath(rel)));
    }
  }
  if (errors.length > 0) return { errors };

  const plan = planTb1Conversion({
    files: [...streamed.keys()].sort(),
    text: (rel) => texts.get(rel) ?? null,
    executable: (rel) => executable.get(rel) ?? false,
  });
  if (!plan.ok) {
    return { errors: plan.reasons.map((r) => problem('tb1_not_convertible', messages.tb1NotConvertible(r.message), zipPath(r.path))) };
  }

  const result: ConvertedStage = { stage: out, tree: { files: new Set(), folders: new Set() }, streamed: new Map(), executable: new Map(), notes: plan.notes };
  for (const file of plan.files) {
    const dest = safeJoin(out, file.path);
    await mkdir(path.dirname(dest), { recursive: true });
    if ('from' in file) {
      await copyFile(safeJoin(stage, file.from), dest, constants.COPYFILE_EXCL);
      result.streamed.set(file.path, streamed.get(file.from)!);
    } else {
      const bytes = Buffer.from(file.data, 'utf8');
      await writeFile(dest, bytes, { flag: 'wx' });
      result.streamed.set(file.path, { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
    await chmod(dest, fileMode(file.executable));
    result.executable.set(file.path, file.executable);
    result.tree.files.add(file.path);
    for (const folder of ancestors(file.path)) result.tree.folders.add(folder);
  }
  return result;
}

/** Zips the original files (relative to the task folder, exec bits kept) to `zipFile`. */
export async function zipOriginal(stage: string, files: string[], executable: Map<string, boolean>, zipFile: string): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const rel of [...files].sort()) {
    zip.addFile(safeJoin(stage, rel), rel, { mode: 0o100000 | fileMode(executable.get(rel) ?? false) });
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(zipFile, { flags: 'wx' }));
}
