import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, whether running from src/ (tsx) or dist/ (built). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const migrationsDir = path.join(repoRoot, 'prisma/migrations');
