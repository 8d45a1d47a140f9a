-- AlterTable
ALTER TABLE "ProviderSecret" ADD COLUMN     "envVar" TEXT NOT NULL;
