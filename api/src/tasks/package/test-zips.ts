// Test helper (imported only by *.test.ts): builds zips in a temp folder, with yazl for ordinary
// archives and a minimal writer for what yazl refuses to produce (non-UTF-8 names, backslashes,
// absolute paths, encryption flags, unsupported methods, wrong CRCs).
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import yazl from 'yazl';
import { extractArchive, type ExtractedArchive, type ExtractOptions } from './index.js';

export const TASK_TOML = `version = "1.0"

[metadata]
author_name = "Test Author"
author_email = "test@example.com"
difficulty = "easy"
category = "software-engineering"
tags = [ "coding", "version-control",]
expert_time_estimate_min = 5.0
junior_time_estimate_min = 20.0

[verifier]
timeout_sec = 900.0

[agent]
timeout_sec = 900.0

[environment]
build_timeout_sec = 600.0
docker_image = "alexgshaw/fix-git:20251031"
cpus = 1
memory = "2G"
storage = "10G"
`;

export type Files = Record<string, Buffer | string>;

/** A valid TB2 task: the six files every TB2 task has. */
export function taskFiles(overrides: Files = {}): Files {
  return {
    'task.toml': TASK_TOML,
    'instruction.md': 'Fix the git repository in /app.\n',
    'environment/Dockerfile': 'FROM ubuntu:24.04\nWORKDIR /app\n',
    'tests/test.sh': '#!/bin/bash\npytest /tests/test_outputs.py\n',
    'tests/test_outputs.py': 'def test_ok():\n    assert True\n',
    'solution/solve.sh': '#!/bin/bash\necho solved\n',
    ...overrides,
  };
}

/** The same files under `prefix/`. */
export function under(prefix: string, files: Files): Files {
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [`${prefix}/${name}`, data]));
}

export function without(files: Files, ...names: string[]): Files {
  return Object.fromEntries(Object.entries(files).filter(([name]) => !names.includes(name)));
}

export interface YazlEntry {
  name: string;
  data?: Buffer | string;
  /** Streamed instead of buffered (size unknown to yazl, like a real zip tool piping data). */
  stream?: Readable;
  dir?: boolean;
  mode?: number;
  compress?: boolean;
}

/** Writes a zip with yazl to `file`; `zip64` forces Zip64 records everywhere. */
export async function yazlZip(file: string, entries: YazlEntry[] | Files, { zip64 = false } = {}): Promise<string> {
  const list: YazlEntry[] = Array.isArray(entries) ? entries : Object.entries(entries).map(([name, data]) => ({ name, data }));
  const zip = new yazl.ZipFile();
  for (const entry of list) {
    const options = { mode: entry.mode ?? (entry.dir ? 0o40755 : 0o100644), mtime: new Date(0), forceZip64Format: zip64 };
    if (entry.dir) zip.addEmptyDirectory(entry.name, options);
    else if (entry.stream) zip.addReadStream(entry.stream, entry.name, { ...options, compress: entry.compress ?? true });
    else zip.addBuffer(Buffer.from(entry.data ?? ''), entry.name, { ...options, compress: entry.compress ?? true });
  }
  zip.end({ forceZip64Format: zip64, comment: '' });
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

export interface RawEntry {
  name: string | Buffer;
  data?: Buffer | string;
  /** 0 stored, 8 deflate (default), anything else writes `data` as is. */
  method?: number;
  /** General-purpose flags; default 0x800 (UTF-8) for string names, 0 for Buffer names. */
  flags?: number;
  /** Unix st_mode; recorded with "made by Unix" when given. */
  mode?: number;
  extra?: Buffer;
  /** Overrides the CRC written to both headers. */
  crc?: number;
}

/** A minimal zip writer (no data descriptors, no Zip64). */
export function rawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.isBuffer(entry.name) ? entry.name : Buffer.from(entry.name, 'utf8');
    const data = Buffer.from(entry.data ?? '');
    const method = entry.method ?? 8;
    const packed = method === 8 ? deflateRawSync(data) : data;
    const flags = entry.flags ?? (Buffer.isBuffer(entry.name) ? 0 : 0x800);
    const crc = entry.crc ?? crc32(data);
    const extra = entry.extra ?? Buffer.alloc(0);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    locals.push(local, name, extra, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.mode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(((entry.mode ?? 0) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name, extra);
    offset += 30 + name.length + extra.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** RawEntry list from a Files map. */
export function raw(files: Files, extra: Partial<RawEntry> = {}): RawEntry[] {
  return Object.entries(files).map(([name, data]) => ({ name, data, ...extra }));
}

/** A temp folder for zips and work folders; `cleanup()` in afterAll. */
export class Scratch {
  private count = 0;
  private constructor(readonly dir: string) {}

  static async create(): Promise<Scratch> {
    return new Scratch(await mkdtemp(path.join(os.tmpdir(), 'thr-package-')));
  }

  file(name: string): string {
    return path.join(this.dir, `${++this.count}-${name}`);
  }

  async workDir(): Promise<string> {
    const dir = path.join(this.dir, `work-${++this.count}`);
    await mkdir(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Writes the zip (a Buffer, or Files zipped with yazl) and extracts it into a fresh work folder. */
  async extract(
    zip: Buffer | Files,
    fileName = 'upload.zip',
    opts: Partial<Omit<ExtractOptions, 'fileName' | 'workDir'>> = {},
  ): Promise<ExtractedArchive> {
    const zipPath = this.file(fileName);
    if (Buffer.isBuffer(zip)) await writeFile(zipPath, zip);
    else await yazlZip(zipPath, zip);
    return extractArchive(zipPath, { fileName, workDir: await this.workDir(), ...opts });
  }
}

/** Problem codes, for compact assertions. */
export function codes(problems: Array<{ code: string }>): string[] {
  return problems.map((p) => p.code);
}
