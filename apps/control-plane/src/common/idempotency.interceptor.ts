import {
  Inject,
  Injectable,
  SetMetadata,
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { DataSource } from 'typeorm';
import type { AuthenticatedRequest } from '../identity/decorators';
import { problems } from './problem';
import { SECRET_BOX, SecretBox } from './secret-box';

const IDEMPOTENT = 'berth:idempotent';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/**
 * A create call that honours an `Idempotency-Key` header: a retry with the same key and the
 * same request gets the first answer again (with `Idempotent-Replayed: true`) instead of a
 * second resource; the same key with a different request is refused with 422, and a retry
 * while the first is still running with 409.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Any unique string (1-255 characters); retries with it create nothing twice',
    }),
  );

interface StoredRow {
  request_hash: string;
  status: number | null;
  response: unknown;
}

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!this.reflector.get<boolean>(IDEMPOTENT, context.getHandler())) return next.handle();
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const raw = request.headers[IDEMPOTENCY_HEADER];
    const key = Array.isArray(raw) ? raw[0] : raw;
    if (key === undefined) return next.handle();
    return from(this.run(context, request, key, next));
  }

  private async run(
    context: ExecutionContext,
    request: AuthenticatedRequest,
    key: string,
    next: CallHandler,
  ): Promise<unknown> {
    if (key.length < 1 || key.length > 255) {
      throw problems.validation([
        { name: 'Idempotency-Key', reason: 'must have 1-255 characters' },
      ]);
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    // Anonymous calls (sign-up) are keyed by the key alone: it must be unguessable then.
    const actor = request.actor?.accountId ?? 'anonymous';
    const path = request.url.split('?')[0] ?? request.url;
    const hash = createHash('sha256')
      .update(`${request.method} ${path}\n${JSON.stringify(request.body ?? null)}`)
      .digest('hex');
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO idempotency_keys (actor, key, method, path, request_hash)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING key`,
      [actor, key, request.method, path, hash],
    );
    if (inserted.length === 0) {
      const rows: StoredRow[] = await this.db.query(
        'SELECT request_hash, status, response FROM idempotency_keys WHERE actor = $1 AND key = $2',
        [actor, key],
      );
      const stored = rows[0];
      if (!stored || stored.request_hash !== hash) {
        throw problems.unprocessable('this Idempotency-Key was used for a different request');
      }
      if (stored.status === null) {
        throw problems.conflict('a request with this Idempotency-Key is still in progress');
      }
      void reply.status(stored.status).header('Idempotent-Replayed', 'true');
      // Answers may hold secrets shown once (API keys, tokens): they are kept sealed.
      const sealed = (stored.response as { sealed?: string } | null)?.sealed;
      return sealed === undefined ? null : this.box.open(Buffer.from(sealed, 'base64'));
    }
    try {
      const result: unknown = await lastValueFrom(next.handle(), { defaultValue: undefined });
      // Nest applies the route's status when it replies, after interceptors: take it from there.
      const status =
        (Reflect.getMetadata(HTTP_CODE_METADATA, context.getHandler()) as number | undefined) ??
        (request.method === 'POST' ? 201 : 200);
      await this.db.query(
        `UPDATE idempotency_keys SET status = $3, response = $4 WHERE actor = $1 AND key = $2`,
        [
          actor,
          key,
          status,
          JSON.stringify({ sealed: this.box.seal(result ?? null).toString('base64') }),
        ],
      );
      return result;
    } catch (err) {
      // A failed request stores nothing: the client may retry it with the same key. Client
      // errors would fail the same way again; they are not worth keeping either.
      await this.db.query('DELETE FROM idempotency_keys WHERE actor = $1 AND key = $2', [
        actor,
        key,
      ]);
      throw err;
    }
  }
}
