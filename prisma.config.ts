// Prisma CLI configuration. DATABASE_URL may be unset (`npm start` starts its own PostgreSQL),
// so the URL is read lazily and never required here.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' },
});
