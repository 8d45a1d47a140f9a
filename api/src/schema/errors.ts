// Expected failures: error classes returned as members of a result union behind the `Error`
// interface, each with a stable `code`. Unexpected errors stay masked by yoga.
import { builder } from './builder.js';
import { DomainError } from './domain-error.js';

export { DomainError };

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`no ${entity} with id ${id}`);
  }
}

export class InvalidInputError extends DomainError {
  readonly code = 'INVALID_INPUT';
  constructor(
    message: string,
    /** The argument or input field at fault, e.g. `files` or `input.runsPerTask`. */
    readonly field: string,
  ) {
    super(message);
  }
}

export const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure, with a message for people and a code for programs.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.exposeString('code', { description: 'Stable, upper-case identifier of the failure.' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof NotFoundError,
  fields: (t) => ({
    entity: t.exposeString('entity', { description: 'What was looked for, e.g. "task".' }),
    id: t.exposeString('id'),
  }),
});

builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  interfaces: [ErrorInterface],
  isTypeOf: (value) => value instanceof InvalidInputError,
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The argument or input field at fault.' }),
  }),
});
