import { Controller, Delete, Get, Head, HttpCode, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '@berth/oci';
import { AuditAction } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { CurrentCaller, RepositoryAccess, type Caller } from '../auth/auth.decorators';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { MetricsService } from '../observability/metrics.service';
import { BlobService, type BlobContent, type BlobInfo } from './blob.service';
import { parseRangeHeader } from './byte-range';

@Controller('v2/_r/blobs')
export class BlobsController {
  constructor(
    private readonly blobs: BlobService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {}

  @Head(':digest')
  @RepositoryAccess('pull')
  async head(
    @RepositoryName() repository: string,
    @Param('digest') digest: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const info = await this.blobs.require(repository, parseDigest(digest).value);
    await reply.status(200).headers(blobHeaders(info)).send();
  }

  @Get(':digest')
  @RepositoryAccess('pull')
  async get(
    @RepositoryName() repository: string,
    @Param('digest') digest: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const content = await this.blobs.open(repository, parseDigest(digest).value, (size) =>
      parseRangeHeader(request.headers.range, size),
    );
    await this.send(reply, content);
  }

  @Delete(':digest')
  @RepositoryAccess('delete')
  @HttpCode(202)
  async delete(
    @RepositoryName() repository: string,
    @Param('digest') digest: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    await this.blobs.delete(repository, parseDigest(digest).value);
    await this.audit.record({
      action: AuditAction.BlobDelete,
      result: 'success',
      caller,
      repository,
      reference: digest,
    });
  }

  private async send(reply: FastifyReply, content: BlobContent): Promise<void> {
    if (content.kind === 'redirect') {
      await reply
        .status(307)
        .header('Location', content.url)
        .header('Docker-Content-Digest', content.info.digest)
        .send();
      return;
    }
    const { info, range, body } = content;
    const length = range ? range.end - range.start + 1 : info.size;
    body.on('end', () => this.metrics.bytesSent(length));
    reply
      .status(range ? 206 : 200)
      .headers(blobHeaders(info))
      .header('Content-Length', String(length));
    if (range) reply.header('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    await reply.send(body);
  }
}

function blobHeaders(info: BlobInfo): Record<string, string> {
  return {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(info.size),
    'Docker-Content-Digest': info.digest,
    ETag: `"${info.digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
}
