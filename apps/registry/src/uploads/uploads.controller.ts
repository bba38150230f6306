import {
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isValidRepositoryName, parseDigest } from '@berth/oci';
import { AccessPolicy } from '../auth/access-policy.service';
import { CurrentCaller, RepositoryAccess, type Caller } from '../auth/auth.decorators';
import { BlobService, type BlobInfo } from '../blobs/blob.service';
import { parseUploadContentRange } from '../blobs/byte-range';
import { contentLengthOf, hasBody, queryOne } from '../distribution/http-body';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { UploadService, uploadHeaders, type UploadState } from './upload.service';

type UploadQuery = Record<string, string | string[] | undefined>;

@Controller('v2/_r/blobs/uploads')
@RepositoryAccess('push')
export class UploadsController {
  constructor(
    private readonly uploads: UploadService,
    private readonly blobs: BlobService,
    private readonly access: AccessPolicy,
  ) {}

  /** Starts an upload, uploads a whole blob (`?digest=`) or mounts one (`?mount=&from=`). */
  @Post()
  async start(
    @RepositoryName() repository: string,
    @Query() query: UploadQuery,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const mount = queryOne(query.mount);
    if (mount !== undefined) {
      const mounted = await this.tryMount(caller, repository, mount, queryOne(query.from));
      if (mounted) return created(reply, repository, mounted);
    }
    const digest = queryOne(query.digest);
    if (digest !== undefined && hasBody(request)) {
      const blob = await this.uploads.uploadMonolithic(
        repository,
        digest,
        request.raw,
        contentLengthOf(request),
      );
      return created(reply, repository, blob);
    }
    const upload = await this.uploads.start(repository);
    if (digest !== undefined) {
      // `?digest=` with an empty body: an empty blob, completed at once.
      const blob = await this.uploads.complete(repository, upload.id, digest, undefined, {});
      return created(reply, repository, blob);
    }
    await accepted(reply, upload, 202);
  }

  @Get(':id')
  async status(
    @RepositoryName() repository: string,
    @Param('id') id: string,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await accepted(reply, await this.uploads.status(repository, id), 204);
  }

  @Patch(':id')
  async patch(
    @RepositoryName() repository: string,
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const upload = await this.uploads.append(repository, id, request.raw, {
      range: parseUploadContentRange(request.headers['content-range']),
      contentLength: contentLengthOf(request),
    });
    await accepted(reply, upload, 202);
  }

  @Put(':id')
  async complete(
    @RepositoryName() repository: string,
    @Param('id') id: string,
    @Query() query: UploadQuery,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const blob = await this.uploads.complete(
      repository,
      id,
      queryOne(query.digest),
      hasBody(request) ? request.raw : undefined,
      {
        range: parseUploadContentRange(request.headers['content-range']),
        contentLength: contentLengthOf(request),
      },
    );
    await created(reply, repository, blob);
  }

  @Delete(':id')
  @HttpCode(204)
  async cancel(@RepositoryName() repository: string, @Param('id') id: string): Promise<void> {
    await this.uploads.cancel(repository, id);
  }

  /** Mounts only from repositories the caller may pull; otherwise the client uploads. */
  private async tryMount(
    caller: Caller,
    repository: string,
    mount: string,
    from: string | undefined,
  ): Promise<BlobInfo | undefined> {
    const digest = parseDigest(mount).value;
    if (from === undefined) {
      // OCI 1.1: without `from` the registry may mount from any repository that has the blob.
      return this.blobs.mountFromAnywhere(repository, digest, await this.access.pullFilter(caller));
    }
    if (!isValidRepositoryName(from) || !(await this.access.canPull(caller, from)))
      return undefined;
    return this.blobs.mount(repository, from, digest);
  }
}

async function created(reply: FastifyReply, repository: string, blob: BlobInfo): Promise<void> {
  await reply
    .status(201)
    .header('Location', `/v2/${repository}/blobs/${blob.digest}`)
    .header('Docker-Content-Digest', blob.digest)
    .header('Content-Length', '0')
    .send();
}

async function accepted(
  reply: FastifyReply,
  upload: UploadState,
  status: 202 | 204,
): Promise<void> {
  await reply.status(status).headers(uploadHeaders(upload)).header('Content-Length', '0').send();
}
