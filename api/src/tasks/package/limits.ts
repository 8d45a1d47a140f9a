// Size limits for unpacking uploaded task archives. Harbor has none; these are platform policy
// (tb2-task-format.md §3). Every limit is measured on streamed decompressed bytes, never on the
// sizes written in the zip headers, which an attacker controls.

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

export interface PackageLimits {
  /** One file's streamed decompressed bytes. */
  maxFileBytes: number;
  /** One task's streamed decompressed bytes. */
  maxTaskBytes: number;
  /** One archive's streamed decompressed bytes (all entries). */
  maxArchiveBytes: number;
  /** Entries in one archive (central directory records, debris included). */
  maxEntries: number;
  /** Compression ratio limit (streamed / compressed) ... */
  maxRatio: number;
  /** ... applied only to entries whose streamed size exceeds this. */
  ratioMinBytes: number;
}

export const defaultPackageLimits: PackageLimits = {
  // The largest TB2 file is ~8.6 MB and the largest task ~28 MB (§2); 100 MiB / 200 MiB leave room
  // for model weights and datasets without letting one upload fill the disk.
  maxFileBytes: 100 * MiB,
  maxTaskBytes: 200 * MiB,
  // A bundle of the whole TB2 corpus is far below this.
  maxArchiveBytes: 1 * GiB,
  // TB2 has 859 files in 89 tasks; 10,000 entries is generous and keeps the central directory small.
  maxEntries: 10_000,
  // TB2 text compresses 2–10×; deflate tops out near 1032:1, so 200:1 on big entries only flags
  // bombs (zero-filled or repetitive blocks), while small highly compressible files stay allowed.
  maxRatio: 200,
  ratioMinBytes: 8 * MiB,
};

/** Shared across all archives of one upload request, for the per-request cap. */
export interface UploadBudget {
  remainingBytes: number;
}

/**
 * task.toml and instruction.md are read into memory to be parsed and stored in the database. The
 * largest TB2 instruction is ~4 KB; 1 MiB bounds memory without rejecting anything real.
 */
export const MAX_TEXT_FILE_BYTES = 1 * MiB;

/** Human-readable size: "100 MiB", "1 GiB", "1.5 KiB", "512 B". */
export function formatBytes(bytes: number): string {
  const units: Array<[number, string]> = [
    [GiB, 'GiB'],
    [MiB, 'MiB'],
    [KiB, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = Math.round((bytes / size) * 10) / 10;
      return `${value} ${unit}`;
    }
  }
  return `${bytes} B`;
}
