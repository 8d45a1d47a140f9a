// A task's flat file list as nested folders, folders first, each with its total size.
import type { TaskFile } from './fields';

export interface TreeFolder {
  kind: 'folder';
  name: string;
  path: string;
  sizeBytes: number;
  fileCount: number;
  children: TreeNode[];
}

export interface TreeFile {
  kind: 'file';
  name: string;
  path: string;
  sizeBytes: number;
  executable: boolean;
}

export type TreeNode = TreeFolder | TreeFile;

export function buildTree(files: TaskFile[]): TreeFolder {
  const root: TreeFolder = { kind: 'folder', name: '', path: '', sizeBytes: 0, fileCount: 0, children: [] };
  for (const file of files) {
    const parts = file.path.split('/').filter(Boolean);
    let folder = root;
    folder.sizeBytes += file.sizeBytes;
    folder.fileCount += 1;
    for (let i = 0; i < parts.length - 1; i++) {
      const path = parts.slice(0, i + 1).join('/');
      let next = folder.children.find((c): c is TreeFolder => c.kind === 'folder' && c.name === parts[i]);
      if (!next) {
        next = { kind: 'folder', name: parts[i]!, path, sizeBytes: 0, fileCount: 0, children: [] };
        folder.children.push(next);
      }
      next.sizeBytes += file.sizeBytes;
      next.fileCount += 1;
      folder = next;
    }
    folder.children.push({
      kind: 'file',
      name: parts[parts.length - 1] ?? file.path,
      path: file.path,
      sizeBytes: file.sizeBytes,
      executable: file.executable,
    });
  }
  const sort = (folder: TreeFolder) => {
    folder.children.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'folder' ? -1 : 1));
    for (const child of folder.children) if (child.kind === 'folder') sort(child);
  };
  sort(root);
  return root;
}
