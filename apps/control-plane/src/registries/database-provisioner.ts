import { Client } from 'pg';

/**
 * Gives each tenant its own database and login role on a PostgreSQL server, so no two
 * tenants share a schema or credentials: the role owns only its database and PUBLIC may not
 * connect to it. Every step is idempotent (a provisioning job may run it again after a crash).
 */
export class DatabaseProvisioner {
  /**
   * @param adminUrl a superuser (or CREATEDB + CREATEROLE) URL of the server
   * @param tenantHost host:port tenants use to reach the server (default: the admin URL's)
   */
  constructor(
    private readonly adminUrl: string,
    private readonly tenantHost?: string,
  ) {}

  /** Creates (or updates the password of) the role and creates its database; returns its URL. */
  async ensure(database: string, role: string, password: string): Promise<string> {
    assertIdentifier(database);
    assertIdentifier(role);
    await this.withClient(async (client) => {
      const roles = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const literal = client.escapeLiteral(password);
      if (roles.rowCount === 0) {
        await client
          .query(`CREATE ROLE "${role}" LOGIN PASSWORD ${literal}`)
          .catch(ignoreDuplicate);
      }
      await client.query(`ALTER ROLE "${role}" LOGIN PASSWORD ${literal}`);
      const dbs = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (dbs.rowCount === 0) {
        await client.query(`CREATE DATABASE "${database}" OWNER "${role}"`).catch(ignoreDuplicate);
      }
      await client.query(`REVOKE ALL ON DATABASE "${database}" FROM PUBLIC`);
      await client.query(`GRANT ALL ON DATABASE "${database}" TO "${role}"`);
    });
    const url = new URL(this.adminUrl);
    url.username = role;
    url.password = password;
    url.pathname = `/${database}`;
    if (this.tenantHost) url.host = this.tenantHost;
    return url.toString();
  }

  /** Drops the database (disconnecting its sessions) and the role; absent is fine. */
  async drop(database: string, role: string): Promise<void> {
    assertIdentifier(database);
    assertIdentifier(role);
    await this.withClient(async (client) => {
      await client.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await client.query(`DROP ROLE IF EXISTS "${role}"`);
    });
  }

  async exists(database: string): Promise<boolean> {
    return this.withClient(async (client) => {
      const rows = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      return (rows.rowCount ?? 0) > 0;
    });
  }

  private async withClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

function assertIdentifier(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe SQL identifier ${name}`);
}

/** Two jobs racing to create the same role or database: the loser's error is harmless. */
function ignoreDuplicate(err: unknown): void {
  const code = (err as { code?: string }).code;
  if (code === '42710' || code === '42P04' || code === '23505') return;
  throw err;
}
