import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { MediaType, parseDigest } from '@berth/oci';
import { RepositoryAccess } from '../auth/auth.decorators';
import { queryOne } from '../distribution/http-body';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { ReferrersService } from './referrers.service';

@Controller('v2/_r/referrers')
export class ReferrersController {
  constructor(private readonly referrers: ReferrersService) {}

  @Get(':digest')
  @RepositoryAccess('pull')
  async list(
    @RepositoryName() repository: string,
    @Param('digest') digest: string,
    @Query('artifactType') artifactTypeParam: string | string[] | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const artifactType = queryOne(artifactTypeParam);
    const index = await this.referrers.list(repository, parseDigest(digest).value, artifactType);
    if (artifactType !== undefined) reply.header('OCI-Filters-Applied', 'artifactType');
    await reply
      .status(200)
      .header('Content-Type', MediaType.OciIndex)
      .send(Buffer.from(JSON.stringify(index)));
  }
}
