import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REPOSITORY_ACTIONS } from './access-scope';
import type { RepositoryAction } from './auth.decorators';
import type { Grant, PublicAccess } from './permission.service';
import { ROLES, type PrincipalKind, type Role } from './principal.service';
import { badRequest } from '../admin/admin-errors';

export class CreatePrincipalDto {
  @ApiProperty({ enum: ['user', 'service_account'] }) kind!: PrincipalKind;
  @ApiProperty({ example: 'ci-deployer' }) name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiPropertyOptional({
    description: 'at least 8 characters; service accounts usually use access tokens',
  })
  password?: string;
}

export class UpdatePrincipalDto {
  @ApiPropertyOptional({ enum: ROLES }) role?: Role;
  @ApiPropertyOptional() disabled?: boolean;
  @ApiPropertyOptional() password?: string;
}

export class CreateAccessTokenDto {
  @ApiProperty({ example: 'github-actions' }) name!: string;
  @ApiPropertyOptional({ description: 'ISO 8601 expiry time' }) expiresAt?: string;
}

export class GrantDto {
  @ApiProperty({ example: 'team-a/*' }) pattern!: string;
  @ApiProperty({ enum: REPOSITORY_ACTIONS, isArray: true }) actions!: RepositoryAction[];
}

export class SetGrantsDto {
  @ApiProperty({ type: [GrantDto] }) grants!: GrantDto[];
}

export class PublicAccessDto {
  @ApiProperty() registryPublic!: boolean;
  @ApiProperty({ type: [String], example: ['public/**'] }) patterns!: string[];
}

type Json = Record<string, unknown>;

function object(body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body must be a JSON object');
  return body as Json;
}

function optionalString(o: Json, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`${key} must be a string`);
  return v;
}

function role(value: unknown): Role {
  if (typeof value !== 'string' || !(ROLES as readonly string[]).includes(value)) {
    throw badRequest(`role must be one of ${ROLES.join(', ')}`);
  }
  return value as Role;
}

export function parseCreatePrincipal(body: unknown): CreatePrincipalDto {
  const o = object(body);
  if (o.kind !== 'user' && o.kind !== 'service_account')
    throw badRequest('kind must be user or service_account');
  const name = optionalString(o, 'name');
  if (!name) throw badRequest('name is required');
  return { kind: o.kind, name, role: role(o.role), password: optionalString(o, 'password') };
}

export function parseUpdatePrincipal(body: unknown): UpdatePrincipalDto {
  const o = object(body);
  if (o.disabled !== undefined && typeof o.disabled !== 'boolean')
    throw badRequest('disabled must be a boolean');
  return {
    role: o.role === undefined ? undefined : role(o.role),
    disabled: o.disabled,
    password: optionalString(o, 'password'),
  };
}

export function parseCreateAccessToken(body: unknown): { name: string; expiresAt?: Date } {
  const o = object(body);
  const name = optionalString(o, 'name');
  if (!name) throw badRequest('name is required');
  const expires = optionalString(o, 'expiresAt');
  if (expires === undefined) return { name };
  const expiresAt = new Date(expires);
  if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now()) {
    throw badRequest('expiresAt must be an ISO 8601 time in the future');
  }
  return { name, expiresAt };
}

export function parseGrants(body: unknown): Grant[] {
  const o = object(body);
  if (!Array.isArray(o.grants)) throw badRequest('grants must be a list');
  return o.grants.map((g: unknown) => {
    const grant = object(g);
    if (typeof grant.pattern !== 'string') throw badRequest('each grant needs a pattern');
    if (!Array.isArray(grant.actions)) throw badRequest('each grant needs a list of actions');
    return { pattern: grant.pattern, actions: grant.actions as RepositoryAction[] };
  });
}

export function parsePublicAccess(body: unknown): PublicAccess {
  const o = object(body);
  if (typeof o.registryPublic !== 'boolean') throw badRequest('registryPublic must be a boolean');
  if (!Array.isArray(o.patterns) || o.patterns.some((p) => typeof p !== 'string')) {
    throw badRequest('patterns must be a list of strings');
  }
  return { registryPublic: o.registryPublic, patterns: o.patterns as string[] };
}
