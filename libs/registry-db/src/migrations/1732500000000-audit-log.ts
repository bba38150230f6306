import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: an append-only table of security-relevant events (authentication, tokens,
 * denials, pushes, pulls, deletes, admin changes). Triggers refuse UPDATE and TRUNCATE always
 * and DELETE unless the transaction set `berth.audit_prune = 'on'` (the retention pruner
 * does, with SET LOCAL). This guards against application bugs, not against a database owner,
 * who can drop the trigger.
 */
export class AuditLog1732500000000 implements MigrationInterface {
  name = 'AuditLog1732500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        principal text NOT NULL,
        principal_id uuid NULL,
        client_ip text NOT NULL,
        action text NOT NULL,
        repository text NULL,
        reference text NULL,
        result text NOT NULL CHECK (result IN ('success', 'failure', 'denied')),
        request_id text NULL,
        detail jsonb NULL
      )`);
    // Pages and exports are ordered by (at, id): the id makes each index serve the keyset.
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at, id)`);
    await q.query(`CREATE INDEX audit_events_principal_idx ON audit_events (principal, at, id)`);
    await q.query(`CREATE INDEX audit_events_action_idx ON audit_events (action, at, id)`);
    await q.query(`CREATE INDEX audit_events_repository_idx ON audit_events (repository, at, id)`);
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND current_setting('berth.audit_prune', true) = 'on' THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate
        BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_events`);
    await q.query(`DROP FUNCTION IF EXISTS audit_events_append_only()`);
  }
}
