// Streaming one entry to disk: caps on streamed decompressed bytes (never header sizes), CRC and
// SHA-256 computed on the way, files created exclusively (tb2-task-format.md §3 "Extraction").
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type { ZipFile } from 'yauzl';
import { isIoError, ZipDamaged, type ZipItem } from './entries.js';
import type { PackageLimits, UploadBudget } from './limits.js';

/** Byte counters shared by every entry of one archive. */
export interface ArchiveMeter {
  limits: PackageLimits;
  budget: UploadBudget | undefined;
  bytes: number;
}

/** Which cap was passed; the first three are archive-level (`zip_bomb`). */
export type CapKind = 'budget' | 'archive' | 'ratio' | 'file' | 'task';

export class CapExceeded extends Error {
  override name = 'CapExceeded';
  constructor(
    readonly kind: CapKind,
    /** Streamed bytes of the entry when the cap was passed. */
    readonly entryBytes: number,
  ) {
    super(`${kind} limit passed`);
  }
}

export interface StreamedFile {
  size: number;
  sha256: string;
}

/** 0755 when the entry's Unix mode has any exec bit, else 0644; never setuid/setgid/sticky. */
export function fileMode(executable: boolean): number {
  return executable ? 0o755 : 0o644;
}

/** `rel` ('/'-separated, already validated) joined under `base`; refuses anything that escapes it. */
export function safeJoin(base: string, rel: string): string {
  const full = path.resolve(base, ...rel.split('/'));
  if (!full.startsWith(base + path.sep)) throw new Error(`refusing to write outside ${base}: ${rel}`);
  return full;
}

function openReadStream(zip: ZipFile, item: ZipItem): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(item.entry, (error, stream) => {
      if (error) reject(isIoError(error) ? error : new ZipDamaged(`${JSON.stringify(item.name)}: ${error.message}`));
      else resolve(stream);
    });
  });
}

/**
 * Streams `item` into `dest` (created exclusively). Rejects with CapExceeded as soon as a cap is
 * passed (the streams are destroyed, so no more data is inflated), ZipDamaged for bad data, the
 * abort reason when `signal` fires, or an I/O error of the destination.
 */
export async function extractEntry(
  zip: ZipFile,
  item: ZipItem,
  dest: string,
  archive: ArchiveMeter,
  task: { bytes: number },
  signal: AbortSignal | undefined,
): Promise<StreamedFile> {
  const { limits, budget } = archive;
  const compressed = item.entry.compressedSize;
  const hash = createHash('sha256');
  let crc = 0;
  let size = 0;

  const cap = (): CapKind | null => {
    if (budget && budget.remainingBytes < 0) return 'budget';
    if (archive.bytes > limits.maxArchiveBytes) return 'archive';
    if (size > limits.ratioMinBytes && size / compressed > limits.maxRatio) return 'ratio';
    if (size > limits.maxFileBytes) return 'file';
    if (task.bytes > limits.maxTaskBytes) return 'task';
    return null;
  };
  const meter = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      size += chunk.length;
      task.bytes += chunk.length;
      archive.bytes += chunk.length;
      if (budget) budget.remainingBytes -= chunk.length;
      const passed = cap();
      if (passed) return callback(new CapExceeded(passed, size));
      hash.update(chunk);
      crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (crc >>> 0 !== item.entry.crc32 >>> 0) {
        return callback(new ZipDamaged(`CRC mismatch in ${JSON.stringify(item.name)}`));
      }
      callback();
    },
  });

  const source = await openReadStream(zip, item);
  const mode = fileMode(item.executable);
  try {
    await pipeline(source, meter, createWriteStream(dest, { flags: 'wx', mode }), { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (error instanceof CapExceeded || error instanceof ZipDamaged || isIoError(error)) throw error;
    // Inflate errors, yauzl's size assertions and the like: the zip's fault.
    throw new ZipDamaged(`${JSON.stringify(item.name)}: ${(error as Error).message}`);
  }
  // The create mode is filtered by the umask; set the exact bits.
  await chmod(dest, mode);
  return { size, sha256: hash.digest('hex') };
}
