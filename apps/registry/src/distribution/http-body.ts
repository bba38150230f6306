import type { FastifyRequest } from 'fastify';
import { OciError, OciErrorCode } from '@berth/oci';

/** `Content-Length` as a number, undefined when absent; SIZE_INVALID when malformed. */
export function contentLengthOf(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new OciError(OciErrorCode.SIZE_INVALID, `bad Content-Length ${raw}`);
  return Number(raw);
}

/** Whether the request carries a body (a non-zero length, or chunked transfer). */
export function hasBody(request: FastifyRequest): boolean {
  const length = contentLengthOf(request);
  if (length !== undefined) return length > 0;
  return request.headers['transfer-encoding'] !== undefined;
}

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes. */
export async function readBody(request: FastifyRequest, limit: number): Promise<Buffer> {
  const declared = contentLengthOf(request);
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.raw) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      request.raw.destroy();
      throw tooLarge(limit);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): OciError {
  return new OciError(
    OciErrorCode.SIZE_INVALID,
    `manifest is larger than the limit of ${limit} bytes`,
    {
      status: 413,
    },
  );
}

/** A query parameter that may repeat (`?tag=a&tag=b`), as a list. */
export function queryList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A single query parameter: the first when it repeats. */
export function queryOne(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
