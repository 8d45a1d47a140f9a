// GraphQL for accounts: me, sign-in/out, users (ADMIN) and API tokens. Thin types over sessions.ts,
// users.ts and tokens.ts. Names here (me, createUser, createApiToken → MutationCreateApiTokenSuccess
// { token }, revokeApiToken) are a contract outside scripts rely on.
import { UserRole } from '../generated/prisma/enums.js';
import { builder } from '../schema/builder.js';
import type { Context } from '../schema/context.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { parseId } from '../schema/ids.js';
import { planned } from '../schema/planned.js';
import { clearedSessionCookie, login, logout, sessionCookie } from './sessions.js';
import { createApiToken, MAX_TOKEN_NAME, revokeApiToken, tokenOwnerFilter } from './tokens.js';
import { createUser, updateUser } from './users.js';
import { requireViewer } from './viewer.js';

const RoleEnum = builder.enumType(UserRole, {
  name: 'Role',
  description: 'ADMIN: everything, users and settings. MEMBER: upload, launch, act on their own jobs; read all. VIEWER: read only.',
});

builder.prismaObject('User', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    disabled: t.boolean({ resolve: (u) => u.disabledAt !== null }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    hasPassword: t.boolean({ description: 'False: signs in with API tokens or a login link only.', resolve: (u) => u.passwordHash !== null }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.prismaObject('ApiToken', {
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the token, to tell tokens apart.' }),
    user: t.relation('user'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true, description: 'Updated at most once a minute.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

// Who created jobs and tasks, so clients can tell what the caller may act on.
builder.prismaObjectField('Job', 'createdBy', (t) => t.relation('createdBy', { nullable: true }));
builder.prismaObjectField('Task', 'createdBy', (t) => t.relation('createdBy', { nullable: true, description: 'Its first uploader.' }));

function tokenDeps(ctx: Context) {
  return { db: ctx.db, viewer: requireViewer(ctx), clientIp: ctx.clientIp, credentialsChanged: ctx.credentialsChanged };
}

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (session or API token).',
    resolve: (query, _root, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...planned(query), where: { id: requireViewer(ctx).userId } }),
  }),
);

builder.queryField('users', (t) =>
  t.prismaConnection(
    {
      type: 'User',
      cursor: 'id',
      defaultSize: 100,
      maxSize: 500,
      authScopes: { roles: ['ADMIN'] },
      description: 'Every account, by name (ADMIN).',
      totalCount: (_parent, _args, ctx) => ctx.db.user.count(),
      resolve: (query, _root, _args, ctx) => ctx.db.user.findMany({ ...planned(query), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    },
    { description: 'A page of users.' },
  ),
);

builder.queryField('apiTokens', (t) =>
  t.prismaField({
    type: ['ApiToken'],
    description: "The caller's API tokens, newest first, revoked ones included; an ADMIN may name another user.",
    args: { userId: t.arg.id() },
    resolve: async (query, _root, { userId }, ctx) => {
      const owner = await tokenOwnerFilter(tokenDeps(ctx), userId == null ? null : parseId(userId, 'userId'));
      return ctx.db.apiToken.findMany({ ...planned(query), where: { userId: owner }, orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] });
    },
  }),
);

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({ name: t.string({ required: true }), password: t.string({ required: true }) }),
});

builder.mutationField('login', (t) =>
  t.prismaField({
    type: 'User',
    description: 'Signs in to the web app: sets the HttpOnly session cookie. UNAUTHENTICATED on a wrong name or password.',
    skipTypeScopes: true,
    authScopes: { public: true },
    args: { input: t.arg({ type: LoginInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const { user, secret } = await login(ctx.db, input, { ip: ctx.clientIp, userAgent: ctx.userAgent });
      ctx.setCookie(sessionCookie(secret, ctx.secureCookies));
      return ctx.db.user.findUniqueOrThrow({ ...planned(query), where: { id: user.id } });
    },
  }),
);

builder.mutationField('logout', (t) =>
  t.boolean({
    description: 'Ends the current session server-side and clears its cookie; false when signed in with an API token (revoke that instead).',
    skipTypeScopes: true,
    authScopes: { signedIn: true },
    resolve: async (_root, _args, ctx) => {
      const ended = await logout(ctx.db, requireViewer(ctx), ctx.clientIp);
      ctx.setCookie(clearedSessionCookie(ctx.secureCookies));
      if (ended) ctx.credentialsChanged();
      return ended;
    },
  }),
);

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Lower-cased; letters, digits, ".", "_", "-".' }),
    role: t.field({ type: RoleEnum, required: true }),
    password: t.string({ description: 'At least 10 characters; without one the user signs in with tokens or a login link.' }),
  }),
});

builder.mutationField('createUser', (t) =>
  t.prismaField({
    type: 'User',
    description: 'Creates an account (ADMIN).',
    authScopes: { roles: ['ADMIN'] },
    errors: { types: [InvalidInputError] },
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const user = await createUser(tokenDeps(ctx), input);
      return ctx.db.user.findUniqueOrThrow({ ...planned(query), where: { id: user.id } });
    },
  }),
);

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    role: t.field({ type: RoleEnum }),
    disabled: t.boolean({ description: 'true: sessions and tokens stop working at once; false: enabled again.' }),
    password: t.string({ description: 'A new password; ends the user’s sessions.' }),
  }),
});

builder.mutationField('updateUser', (t) =>
  t.prismaField({
    type: 'User',
    description: 'Changes a role, disables or enables, or resets a password (ADMIN).',
    authScopes: { roles: ['ADMIN'] },
    errors: { types: [InvalidInputError, NotFoundError] },
    args: { input: t.arg({ type: UpdateUserInput, required: true }) },
    resolve: async (query, _root, { input }, ctx) => {
      const user = await updateUser(tokenDeps(ctx), { ...input, id: parseId(input.id, 'input.id') });
      return ctx.db.user.findUniqueOrThrow({ ...planned(query), where: { id: user.id } });
    },
  }),
);

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    userId: t.id({ description: 'Whose token; default the caller. Only an ADMIN may name someone else.' }),
    name: t.string({ required: true, description: `What it is for, up to ${MAX_TOKEN_NAME} characters.` }),
    expiresAt: t.field({ type: 'DateTime', description: 'Unset: valid until revoked.' }),
  }),
});

interface CreatedToken {
  token: string;
  apiToken: { id: string };
}

const CreatedTokenRef = builder.objectRef<CreatedToken>('MutationCreateApiTokenSuccess').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The secret, shown only now: send it as `Authorization: Bearer <token>`.' }),
    apiToken: t.prismaField({
      type: 'ApiToken',
      resolve: (query, created, _args, ctx) => ctx.db.apiToken.findUniqueOrThrow({ ...planned(query), where: { id: created.apiToken.id } }),
    }),
  }),
});

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreatedTokenRef,
    description: 'A new API token for the caller (an ADMIN: for anyone). The secret is in the answer only.',
    skipTypeScopes: true,
    authScopes: { signedIn: true },
    errors: { types: [InvalidInputError, NotFoundError], directResult: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createApiToken(tokenDeps(ctx), { ...input, userId: input.userId == null ? null : parseId(input.userId, 'input.userId') }),
  }),
);

builder.mutationField('revokeApiToken', (t) =>
  t.prismaField({
    type: 'ApiToken',
    description: 'Revokes an API token at once, closing WebSockets that use it: your own, or anyone’s for an ADMIN.',
    skipTypeScopes: true,
    authScopes: { signedIn: true },
    errors: { types: [NotFoundError, InvalidInputError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, { id }, ctx) => {
      const revoked = await revokeApiToken(tokenDeps(ctx), parseId(id, 'id'));
      return ctx.db.apiToken.findUniqueOrThrow({ ...planned(query), where: { id: revoked.id } });
    },
  }),
);
