import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { toPage, type Page, type PageRequest } from '../common/pagination';
import type { OrgScope } from '../orgs/org-scope';

export interface Notification {
  id: string;
  kind: string;
  message: string;
  details: Record<string, unknown>;
  createdAt: string;
  read: boolean;
}

/** The organisation's notification feed (tier upgrades, quota blocks, failures). */
@Injectable()
export class NotificationsService {
  constructor(private readonly db: DataSource) {}

  async notify(
    orgId: string,
    kind: string,
    message: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await this.db.query(
      'INSERT INTO notifications (id, org_id, kind, message, details) VALUES ($1, $2, $3, $4, $5)',
      [randomUUID(), orgId, kind, message, JSON.stringify(details)],
    );
  }

  async list(scope: OrgScope, page: PageRequest): Promise<Page<Notification>> {
    const rows: {
      id: string;
      kind: string;
      message: string;
      details: Record<string, unknown>;
      created_at: Date;
      read_at: Date | null;
    }[] = await this.db.query(
      `SELECT id, kind, message, details, created_at, read_at FROM notifications
        WHERE org_id = $1 AND ($2::text IS NULL OR (created_at, id::text) < (
          SELECT created_at, id::text FROM notifications WHERE id::text = $2 AND org_id = $1))
        ORDER BY created_at DESC, id::text DESC LIMIT $3`,
      [scope.orgId, page.after, page.limit + 1],
    );
    return toPage(
      rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        message: r.message,
        details: r.details,
        createdAt: r.created_at.toISOString(),
        read: r.read_at !== null,
      })),
      page,
      (n) => n.id,
    );
  }
}
