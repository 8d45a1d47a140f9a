// The base of every expected failure, apart from the schema (errors.ts) so that modules the builder
// itself needs (auth/scopes.ts) can throw coded errors without an import cycle.
export abstract class DomainError extends Error {
  abstract readonly code: string;
}
