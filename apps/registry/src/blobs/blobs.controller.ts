import { Controller, Delete, Get, Head, HttpCode, Param, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pipeline } from 'node:stream';
import { parseDigest } from '@berth/oci';
import { AuditAction } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { CurrentCaller, RepositoryAccess, type Caller } from '../auth/auth.decorators';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { ByteCounter } from '../egress/byte-counter';
import { EgressService } from '../egress/egress.service';
import { MetricsService } from '../observability/metrics.service';
import type { ObjectCopy } from '@berth/storage';
import { BlobService, type BlobContent, type BlobInfo } from './blob.service';
import { parseRangeHeader } from './byte-range';

@Controller('v2/_r/blobs')
export class BlobsController {
  constructor(
    private readonly blobs: BlobService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly egress: EgressService,
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
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const content = await this.blobs.open(repository, parseDigest(digest).value, (size) =>
      parseRangeHeader(request.headers.range, size),
    );
    await this.send(reply, content, (bytes) => this.egress.record(repository, caller.name, bytes));
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

  /**
   * Egress: a redirect counts the whole blob (its bytes leave our bucket); a stream counts the
   * bytes it handed to the socket, so an aborted download counts what was sent before it broke.
   */
  private async send(
    reply: FastifyReply,
    content: BlobContent,
    served: (bytes: number) => void,
  ): Promise<void> {
    if (content.kind === 'redirect') {
      served(content.info.size);
      await reply
        .status(307)
        .header('Location', content.url)
        .header('Docker-Content-Digest', content.info.digest)
        .send();
      return;
    }
    const { info, range } = content;
    const length = range ? range.end - range.start + 1 : info.size;
    reply
      .status(range ? 206 : 200)
      .headers(blobHeaders(info))
      .header('Content-Length', String(length));
    if (range) reply.header('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
    if (content.kind === 'copy') {
      await this.copy(reply, content.source, served);
      return;
    }
    const { body } = content;
    body.on('end', () => this.metrics.bytesSent(length));
    const counter = new ByteCounter();
    counter.once('close', () => served(counter.bytes));
    // Errors travel down the pipeline to the response, which fastify then destroys.
    await reply.send(pipeline(body, counter, () => undefined));
  }

  /**
   * Local disk: the storage driver writes straight to the socket with two reused buffers per
   * download (no stream hops, no buffer per chunk). The reply is hijacked, so the headers set
   * so far (ours and the onRequest hook's) are written here; onResponse hooks still run.
   */
  private async copy(
    reply: FastifyReply,
    source: ObjectCopy,
    served: (bytes: number) => void,
  ): Promise<void> {
    reply.hijack();
    const response = reply.raw;
    try {
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) response.setHeader(name, value);
      }
      response.writeHead(reply.statusCode);
      await source.writeTo(response);
      response.end();
      this.metrics.bytesSent(source.length);
    } catch {
      // The client went away or the file could not be read: the status line is gone, so
      // the only way to tell the client is to cut the connection short of Content-Length.
      await source.close();
      response.destroy();
    } finally {
      served(source.written);
    }
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
