/** Position after which the next page starts: the last event of the previous page. */
export interface AuditCursor {
  /** Exact timestamp of that event (microseconds, UTC). */
  at: string;
  id: string;
}

export class InvalidAuditCursorError extends Error {
  constructor() {
    super('cursor is not one this API returned');
  }
}

const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const ID = /^[1-9]\d{0,18}$/;

/** Opaque to clients: base64url of `<at>|<id>`. */
export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(`${cursor.at}|${cursor.id}`, 'utf8').toString('base64url');
}

export function decodeAuditCursor(value: string): AuditCursor {
  if (!/^[\w-]{1,200}$/.test(value)) throw new InvalidAuditCursorError();
  const [at, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !at || !id || !AT.test(at) || !ID.test(id)) {
    throw new InvalidAuditCursorError();
  }
  return { at, id };
}
