import { Controller, Get, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parsePageParams } from '@berth/oci';
import { AccessPolicy } from '../auth/access-policy.service';
import {
  CatalogAccess,
  CurrentCaller,
  RepositoryAccess,
  type Caller,
} from '../auth/auth.decorators';
import { queryOne } from '../distribution/http-body';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { ListingService, type Page } from './listing.service';

type ListQuery = Record<string, string | string[] | undefined>;

@Controller('v2')
export class TagsController {
  constructor(
    private readonly listing: ListingService,
    private readonly access: AccessPolicy,
  ) {}

  @Get('_r/tags/list')
  @RepositoryAccess('pull')
  async tags(
    @RepositoryName() repository: string,
    @Query() query: ListQuery,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const page = await this.listing.tags(repository, pageOf(query));
    await sendPage(reply, `/v2/${repository}/tags/list`, page, {
      name: repository,
      tags: page.items,
    });
  }

  @Get('_catalog')
  @CatalogAccess()
  async catalog(
    @Query() query: ListQuery,
    @CurrentCaller() caller: Caller,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const page = await this.listing.catalog(pageOf(query), await this.access.pullFilter(caller));
    await sendPage(reply, '/v2/_catalog', page, { repositories: page.items });
  }
}

function pageOf(query: ListQuery): { n?: number; last?: string } {
  return parsePageParams(queryOne(query.n), queryOne(query.last), Number.MAX_SAFE_INTEGER);
}

async function sendPage(
  reply: FastifyReply,
  path: string,
  page: Page,
  body: object,
): Promise<void> {
  if (page.next !== undefined) {
    const next = `${path}?n=${page.n}&last=${encodeURIComponent(page.next)}`;
    reply.header('Link', `<${next}>; rel="next"`);
  }
  await reply
    .status(200)
    .header('Content-Type', 'application/json; charset=utf-8')
    .send(JSON.stringify(body));
}
