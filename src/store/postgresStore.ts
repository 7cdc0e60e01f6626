// The Store (store.ts) on PostgreSQL, for networks whose nodes run on several machines and share
// one database. Every deciding step is one statement or one transaction, so two nodes racing
// for the same name get one answer each and the database decides which. PostgreSQL going away
// is an outcome the server acts on (ChatError STORE_UNAVAILABLE), never a crash: the pool's
// connections fail, calls reject, and once PostgreSQL is back the next call connects again.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { PoolClient } from 'pg';
import { ChatError } from '../core/errors.js';
import { migrationsFor, pendingMigrations } from './migrations.js';
import { forgetAccount, postgresHistory } from './postgresHistory.js';
import type { AccountRecord, CertificateResult, ChannelChange, NetworkBan, Store } from './store.js';
import { channelColumns, channelOfRow, credentialsOfRow, keptUsersOfRows, type ChannelRow, type CredentialsRow } from './rows.js';

export interface PostgresStoreOptions {
  /** Connections per node; each call holds one for its statement or transaction. */
  poolSize?: number;
  /** A connection not established by then fails the call (PostgreSQL down or unreachable). */
  connectTimeoutMs?: number;
  /** A statement with no answer by then fails the call (PostgreSQL frozen, or a partition). */
  queryTimeoutMs?: number;
  /** Errors of idle connections (PostgreSQL restarted, the network dropped); the next call reconnects. */
  onError?: (err: Error) => void;
}

const defaults = {
  poolSize: 10,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 10_000,
};

/**
 * Held by whichever node is migrating, for its transaction only: two nodes starting at once on
 * a new database take turns, and the second finds the schema already there. Any fixed number
 * works; this one is "chatstor" in ASCII, unlikely to collide with another application's.
 */
const migrationLockKey = 0x63686174_73746f72n;

/** How long opening may wait for another node's migration, or run its own. */
const migrateTimeoutMs = 5 * 60_000;

/** BIGINT columns (ms times) as numbers: exact up to 2^53 ms, the year 285,616. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// The ways PostgreSQL cannot be reached or cannot write: socket errors, pg's own messages for a
// dead, timed-out or ended connection or pool, and SQLSTATEs of class 08 (connection exception),
// 53 (insufficient resources: disk full, too many connections), 57P0x (shutting down, starting
// up), 28 (authentication), 3D000 (no such database) and 25006 (a read-only standby).
const unavailableErrno = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);
const unavailableMessage = /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|Query read timeout|Cannot use a pool after calling end/i;
const unavailableSqlState = /^(08|53|57P0|28)|^3D000$|^25006$/;

function isUnavailable(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isUnavailable) || unavailableErrno.has(String((err as { code?: unknown }).code));
  if (!(err instanceof Error)) return false;
  const code = String((err as { code?: unknown }).code ?? '');
  return unavailableErrno.has(code) || unavailableSqlState.test(code) || unavailableMessage.test(err.message);
}

/** SQLSTATE 23503: a foreign key pointed at a row that is not (or no longer) there. */
const isForeignKeyViolation = (err: unknown): boolean => (err as { code?: unknown }).code === '23503';

/** The URL with no password in it, for logs: `postgres://user@host:port/db`. */
function describe(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ChatError('STORE_UNAVAILABLE', 'the PostgreSQL address is not a URL (postgres://user@host:port/db)');
  }
  const user = u.username ? `${u.username}@` : '';
  return `${u.protocol}//${user}${u.hostname || 'localhost'}:${u.port || 5432}${u.pathname}`;
}

const channelSelect = `
  SELECT c.name, a.name AS founder, c.registered_at, c.topic, c.topic_set_by, c.topic_set_at, c.modes, c.channel_key, c.user_limit
  FROM channels c JOIN accounts a ON a.key = c.founder`;

/**
 * Brings the database up to this server's schema and gives its id. On a connection of its own
 * with a limit of its own (migrateTimeoutMs): waiting for another node's migration, or running
 * a long one, must not hit queryTimeoutMs. Under the lock, one transaction per migration, each
 * re-reading the version (another node may have moved it while this one waited).
 */
async function migrate(url: string, where: string, connectTimeoutMs: number): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, query_timeout: migrateTimeoutMs, types });
  // Its failures reach the awaiting query; an unheard error event would crash the process.
  client.on('error', () => {});
  let finished = false;
  try {
    await client.connect();
    const all = migrationsFor('postgres');
    for (;;) {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockKey.toString()]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
      const applied = await client.query<{ version: number }>('SELECT coalesce(max(version), 0) AS version FROM schema_migrations');
      const next = pendingMigrations(all, applied.rows[0]!.version, where)[0];
      if (!next) break;
      await client.query(next.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [next.version, next.name, Date.now()]);
      await client.query('COMMIT');
    }
    // The first node to get here writes the id; every other one reads the same.
    await client.query("INSERT INTO store_meta (key, value) VALUES ('id', $1) ON CONFLICT (key) DO NOTHING", [randomUUID()]);
    const { rows } = await client.query<{ value: string }>("SELECT value FROM store_meta WHERE key = 'id'");
    await client.query('COMMIT');
    finished = true;
    return rows[0]!.value;
  } catch (err) {
    if (err instanceof ChatError) throw err;
    throw new ChatError('STORE_UNAVAILABLE', `cannot open ${where}: ${(err as Error).message}`, { cause: err });
  } finally {
    // After a failure, not awaited: a frozen server would never answer the goodbye. Closing the
    // session rolls back whatever transaction was open.
    const ended = client.end().catch(() => {});
    if (finished) await ended;
  }
}

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const where = describe(url);
  const { poolSize, connectTimeoutMs, queryTimeoutMs } = { ...defaults, ...options };
  const id = await migrate(url, where, connectTimeoutMs);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    // Finds a peer that vanished without closing (a partition) on an idle connection.
    keepAlive: true,
    types,
  });
  // An idle connection's error (PostgreSQL restarted) is reported here; unhandled, it would
  // crash the process. The pool has already dropped that connection.
  pool.on('error', (err) => options.onError?.(err));
  let closed = false;

  /** Runs one step; an unreachable PostgreSQL becomes STORE_UNAVAILABLE, naming the step. */
  async function step<T>(what: string, body: () => Promise<T>): Promise<T> {
    if (closed) throw new ChatError('STORE_UNAVAILABLE', `${where}: ${what}: the store is closed`);
    try {
      return await body();
    } catch (err) {
      if (err instanceof ChatError) throw err;
      if (closed || isUnavailable(err)) {
        throw new ChatError('STORE_UNAVAILABLE', `${where}: ${what} failed: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
  }

  /** One parameterised statement on any pooled connection. */
  const query = (text: string, values: unknown[] = []): Promise<pg.QueryResult> => pool.query(text, values);

  /**
   * A transaction on one connection. On any failure the connection is destroyed rather than
   * rolled back: PostgreSQL aborts the transaction of a closed session, and a ROLLBACK on a dead
   * connection would only wait for its own timeout.
   */
  async function transaction<T>(body: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    // While checked out, a connection's error event has no pool listener: without this, a
    // session ended between two statements would crash the process.
    const onClientError = (err: Error): void => options.onError?.(err);
    client.on('error', onClientError);
    let failure: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.off('error', onClientError);
      client.release(failure);
    }
  }

  return {
    kind: 'postgres',
    id,
    where,
    history: postgresHistory({ step, query, transaction }),

    createAccount: (key, account, credentials) =>
      step('creating an account', async () => {
        const { passwordHash, scram } = credentials;
        // ON CONFLICT waits for a racing insert of the same key to commit, then does nothing:
        // the loser sees rowCount 0, never a unique violation.
        const result = await query(
          `INSERT INTO accounts (key, name, email, registered_at, password_hash, scram_salt, scram_iterations, scram_stored_key, scram_server_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING`,
          [key, account.name, account.email, account.registeredAt, passwordHash, scram.salt, scram.iterations, scram.storedKey, scram.serverKey],
        );
        return result.rowCount === 1;
      }),

    account: (key) =>
      step('reading an account', async () => {
        const { rows } = await query(
          `SELECT a.name, a.email, a.registered_at,
             coalesce(array_agg(c.fingerprint ORDER BY c.fingerprint) FILTER (WHERE c.fingerprint IS NOT NULL), '{}') AS certificates
           FROM accounts a LEFT JOIN certificates c ON c.account = a.key
           WHERE a.key = $1 GROUP BY a.key`,
          [key],
        );
        const row = rows[0];
        if (!row) return null;
        return { name: row.name, email: row.email, registeredAt: row.registered_at, certificates: row.certificates } satisfies AccountRecord;
      }),

    credentials: (key) =>
      step('reading credentials', async () => {
        const { rows } = await query(
          'SELECT password_hash, scram_salt, scram_iterations, scram_stored_key, scram_server_key FROM accounts WHERE key = $1',
          [key],
        );
        const row = rows[0] as CredentialsRow | undefined;
        return row ? credentialsOfRow(row) : null;
      }),

    setCredentials: (key, credentials) =>
      step('replacing credentials', async () => {
        const { passwordHash, scram } = credentials;
        const result = await query(
          `UPDATE accounts SET password_hash = $2, scram_salt = $3, scram_iterations = $4, scram_stored_key = $5, scram_server_key = $6
           WHERE key = $1`,
          [key, passwordHash, scram.salt, scram.iterations, scram.storedKey, scram.serverKey],
        );
        return result.rowCount === 1;
      }),

    alwaysOn: (key) =>
      step('reading an account', async () => (await query('SELECT always_on FROM accounts WHERE key = $1', [key])).rows[0]?.always_on === true),

    setAlwaysOn: (key, on) =>
      step(
        'changing an account',
        async () => (await query('UPDATE accounts SET always_on = $2, kept_user = CASE WHEN $2 THEN kept_user END WHERE key = $1', [key, on])).rowCount === 1,
      ),

    keepUser: (key, kept) =>
      step('changing an account', async () => {
        await query('UPDATE accounts SET kept_user = $2 WHERE key = $1 AND always_on', [key, JSON.stringify(kept)]);
      }),

    keptUsers: () =>
      step('reading accounts', async () => {
        const rows = (await query('SELECT name, kept_user FROM accounts WHERE always_on AND kept_user IS NOT NULL ORDER BY key', [])).rows as Array<{ name: string; kept_user: string }>;
        return keptUsersOfRows(rows);
      }),

    autoreplayMissed: (key) =>
      step('reading an account', async () => (await query('SELECT autoreplay_missed FROM accounts WHERE key = $1', [key])).rows[0]?.autoreplay_missed === true),

    setAutoreplayMissed: (key, on) =>
      step('changing an account', async () => (await query('UPDATE accounts SET autoreplay_missed = $2 WHERE key = $1', [key, on])).rowCount === 1),

    keptUser: (key) =>
      step('reading an account', async () => {
        const rows = (await query('SELECT name, kept_user FROM accounts WHERE key = $1 AND always_on AND kept_user IS NOT NULL', [key])).rows as Array<{ name: string; kept_user: string }>;
        return keptUsersOfRows(rows)[0]?.kept ?? null;
      }),

    // Certificates and founded channels go with it (ON DELETE CASCADE).
    dropAccount: (key) =>
      step('dropping an account', () =>
        transaction(async (client) => {
          if ((await client.query('DELETE FROM accounts WHERE key = $1', [key])).rowCount !== 1) return false;
          // Its private history goes in the same step (postgresHistory.ts forgetAccount says why).
          await forgetAccount(client, key);
          return true;
        }),
      ),

    addCertificate: (key, fingerprint) =>
      step('adding a certificate', () =>
        transaction(async (client): Promise<CertificateResult> => {
          // Locks the account against a concurrent drop until this transaction ends.
          const account = await client.query('SELECT 1 FROM accounts WHERE key = $1 FOR KEY SHARE', [key]);
          if (account.rowCount === 0) return 'noAccount';
          // A holder removed between the insert and the look-up: try again (each statement sees
          // what committed before it, so the next round decides).
          for (;;) {
            const added = await client.query(
              'INSERT INTO certificates (fingerprint, account, added_at) VALUES ($1, $2, $3) ON CONFLICT (fingerprint) DO NOTHING',
              [fingerprint, key, Date.now()],
            );
            if (added.rowCount === 1) return 'added';
            const holder = await client.query('SELECT account FROM certificates WHERE fingerprint = $1', [fingerprint]);
            if (holder.rows[0]) return holder.rows[0].account === key ? 'exists' : 'taken';
          }
        }),
      ),

    removeCertificate: (key, fingerprint) =>
      step(
        'removing a certificate',
        async () => (await query('DELETE FROM certificates WHERE account = $1 AND fingerprint = $2', [key, fingerprint])).rowCount === 1,
      ),

    accountByCertificate: (fingerprint) =>
      step('finding an account by certificate', async () => {
        const { rows } = await query('SELECT a.name FROM certificates c JOIN accounts a ON a.key = c.account WHERE c.fingerprint = $1', [
          fingerprint,
        ]);
        return (rows[0]?.name as string | undefined) ?? null;
      }),

    registerChannel: (key, founderKey, channel) =>
      step('registering a channel', async () => {
        try {
          const result = await query(
            `INSERT INTO channels (key, name, founder, registered_at, topic, topic_set_by, topic_set_at, modes, channel_key, user_limit)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (key) DO NOTHING`,
            [key, channel.name, founderKey, channel.registeredAt, channel.topic, channel.topicSetBy, channel.topicSetAt, channel.modes, channel.key, channel.limit],
          );
          return result.rowCount === 1;
        } catch (err) {
          // No such founder (or dropped meanwhile): the foreign key refuses it, in the same step.
          if (isForeignKeyViolation(err)) return false;
          throw err;
        }
      }),

    channel: (key) =>
      step('reading a channel', async () => {
        const { rows } = await query(`${channelSelect} WHERE c.key = $1`, [key]);
        const row = rows[0] as ChannelRow | undefined;
        return row ? channelOfRow(row) : null;
      }),

    updateChannel: (key, change) =>
      step('updating a channel', async () => {
        // Column names come from channelColumns, never from the caller; values are parameters.
        const given = (Object.keys(channelColumns) as Array<keyof ChannelChange>).filter((field) => change[field] !== undefined);
        if (given.length === 0) return (await query('SELECT 1 FROM channels WHERE key = $1', [key])).rowCount === 1;
        const sets = given.map((field, i) => `${channelColumns[field]} = $${i + 2}`);
        const result = await query(`UPDATE channels SET ${sets.join(', ')} WHERE key = $1`, [key, ...given.map((field) => change[field])]);
        return result.rowCount === 1;
      }),

    dropChannel: (key) => step('dropping a channel', async () => (await query('DELETE FROM channels WHERE key = $1', [key])).rowCount === 1),

    channelsFoundedBy: (accountKey) =>
      step('listing founded channels', async () => {
        const { rows } = await query('SELECT name FROM channels WHERE founder = $1 ORDER BY key', [accountKey]);
        return rows.map((row) => row.name as string);
      }),

    addBan: (key, ban) =>
      step('adding a ban', async () => {
        const result = await query(
          `INSERT INTO network_bans (key, mask, reason, set_by, set_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (key) DO NOTHING`,
          [key, ban.mask, ban.reason, ban.setBy, ban.setAt, ban.expiresAt],
        );
        return result.rowCount === 1;
      }),

    removeBan: (key) => step('removing a ban', async () => (await query('DELETE FROM network_bans WHERE key = $1', [key])).rowCount === 1),

    bans: (now) =>
      step('listing bans', async () => {
        const { rows } = await query(
          `SELECT mask, reason, set_by, set_at, expires_at FROM network_bans
           WHERE expires_at IS NULL OR expires_at > $1 ORDER BY set_at, key`,
          [now],
        );
        return rows.map((row): NetworkBan => ({ mask: row.mask, reason: row.reason, setBy: row.set_by, setAt: row.set_at, expiresAt: row.expires_at }));
      }),

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
