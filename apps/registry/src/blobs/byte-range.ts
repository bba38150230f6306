import { OciError, OciErrorCode } from '@berth/oci';
import type { ByteRange } from '@berth/storage';

/**
 * Parses an HTTP `Range` header for a blob of `size` bytes (RFC 9110: one range only).
 * Returns undefined when the whole blob should be served.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) {
    throw rangeNotSatisfiable(size, `malformed Range header: ${header}`);
  }
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) throw rangeNotSatisfiable(size, 'empty suffix range');
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) {
    throw rangeNotSatisfiable(size, `range ${header} cannot be satisfied for ${size} bytes`);
  }
  return { start, end };
}

function rangeNotSatisfiable(size: number, message: string): OciError {
  return new OciError(OciErrorCode.RANGE_INVALID, message, {
    status: 416,
    headers: { 'Content-Range': `bytes */${size}` },
  });
}

/** `Content-Range` of an upload chunk: `<start>-<end>`, optionally with `bytes ` and `/total`. */
export function parseUploadContentRange(header: string | undefined): ByteRange | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) {
    throw new OciError(OciErrorCode.RANGE_INVALID, `malformed Content-Range: ${header}`, {
      status: 416,
    });
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) {
    throw new OciError(
      OciErrorCode.RANGE_INVALID,
      `Content-Range ends before it starts: ${header}`,
      {
        status: 416,
      },
    );
  }
  return { start, end };
}
