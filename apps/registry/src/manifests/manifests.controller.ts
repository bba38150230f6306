import {
  Controller,
  Delete,
  Get,
  Head,
  HttpCode,
  Inject,
  Param,
  Put,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  OciError,
  OciErrorCode,
  manifestAcceptable,
  parseAccept,
  parseManifestReference,
  type ManifestReference,
} from '@berth/oci';
import { AuditAction } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import { CurrentCaller, RepositoryAccess, type Caller } from '../auth/auth.decorators';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { queryList, readBody } from '../distribution/http-body';
import { RepositoryName } from '../distribution/repository-name.decorator';
import { EgressService } from '../egress/egress.service';
import { MetricsService } from '../observability/metrics.service';
import { ManifestService, type StoredManifest } from './manifest.service';

@Controller('v2/_r/manifests')
export class ManifestsController {
  constructor(
    private readonly manifests: ManifestService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
    private readonly egress: EgressService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  @Head(':reference')
  @RepositoryAccess('pull')
  async head(
    @RepositoryName() repository: string,
    @Param('reference') reference: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const manifest = await this.find(repository, reference, request);
    await reply.status(200).headers(manifestHeaders(manifest)).send();
  }

  @Get(':reference')
  @RepositoryAccess('pull')
  async get(
    @RepositoryName() repository: string,
    @Param('reference') reference: string,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const manifest = await this.find(repository, reference, request);
    this.metrics.bytesSent(manifest.content.length);
    this.egress.record(repository, caller.name, manifest.content.length);
    // Pulls are the hot path: their audit write does not hold the response.
    this.audit.recordInBackground({
      action: AuditAction.ManifestPull,
      result: 'success',
      caller,
      repository,
      reference,
      detail: { digest: manifest.digest },
    });
    await reply.status(200).headers(manifestHeaders(manifest)).send(manifest.content);
  }

  @Put(':reference')
  @RepositoryAccess('push')
  async put(
    @RepositoryName() repository: string,
    @Param('reference') reference: string,
    @Query('tag') tag: string | string[] | undefined,
    @CurrentCaller() caller: Caller,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const parsed = parseManifestReference(reference);
    const body = await readBody(request, this.config.maxManifestBytes);
    const pushed = await this.manifests.put(
      repository,
      parsed,
      queryList(tag),
      request.headers['content-type'],
      body,
    );
    reply
      .status(201)
      .header('Location', `/v2/${repository}/manifests/${pushed.digest}`)
      .header('Docker-Content-Digest', pushed.digest)
      .header('Content-Length', '0');
    if (pushed.subject) reply.header('OCI-Subject', pushed.subject);
    if (pushed.tags.length > 0) reply.header('OCI-Tag', pushed.tags.join(', '));
    await this.audit.record({
      action: AuditAction.ManifestPush,
      result: 'success',
      caller,
      repository,
      reference,
      detail: { digest: pushed.digest, tags: pushed.tags },
    });
    await reply.send();
  }

  @Delete(':reference')
  @RepositoryAccess('delete')
  @HttpCode(202)
  async delete(
    @RepositoryName() repository: string,
    @Param('reference') reference: string,
    @CurrentCaller() caller: Caller,
  ): Promise<void> {
    const parsed = lookupReference(reference);
    await this.manifests.delete(repository, parsed);
    await this.audit.record({
      action: parsed.kind === 'tag' ? AuditAction.TagDelete : AuditAction.ManifestDelete,
      result: 'success',
      caller,
      repository,
      reference,
    });
  }

  private async find(
    repository: string,
    reference: string,
    request: FastifyRequest,
  ): Promise<StoredManifest> {
    const parsed = lookupReference(reference);
    const manifest = await this.manifests.get(repository, parsed);
    if (
      parsed.kind === 'tag' &&
      !manifestAcceptable(manifest.mediaType, parseAccept(request.headers.accept))
    ) {
      throw new OciError(
        OciErrorCode.MANIFEST_UNKNOWN,
        `manifest ${reference} is a ${manifest.mediaType}, which the Accept header does not list`,
      );
    }
    return manifest;
  }
}

/** For reads and deletes an unparseable tag simply names no manifest. */
function lookupReference(reference: string): ManifestReference {
  try {
    return parseManifestReference(reference);
  } catch (err) {
    if (err instanceof OciError && err.code !== OciErrorCode.DIGEST_INVALID) {
      throw new OciError(OciErrorCode.MANIFEST_UNKNOWN, `manifest ${reference} is not known`);
    }
    throw err;
  }
}

function manifestHeaders(manifest: StoredManifest): Record<string, string> {
  return {
    'Content-Type': manifest.mediaType,
    'Content-Length': String(manifest.content.length),
    'Docker-Content-Digest': manifest.digest,
    ETag: `"${manifest.digest}"`,
  };
}
