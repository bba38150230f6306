import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { assertRepositoryName, OciError, OciErrorCode } from '@berth/oci';
import { repositoryOf } from './route-rewrite';

/** The validated repository name of a `/v2/<name>/...` request (`NAME_INVALID` otherwise). */
export const RepositoryName = createParamDecorator((_data: unknown, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  const name = repositoryOf(request.raw);
  if (name === undefined)
    throw new OciError(OciErrorCode.NAME_INVALID, 'no repository name in path');
  assertRepositoryName(name);
  return name;
});
