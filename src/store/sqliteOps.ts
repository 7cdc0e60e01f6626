// The Store's operations on one SQLite database, synchronous (better-sqlite3). The writes run
// inside the store's worker thread (sqliteWorker.ts: SqliteOps), never on the server's event
// loop. The reads (SqliteReads: point lookups by key, a few µs from the page cache) also run on
// the event loop itself over a read-only connection: a worker round trip costs ten times the
// read (~50 µs of CPU against ~5), and in WAL mode a reader never waits for the writer. Opening
// sets WAL (readers never wait for the writer; another process, e.g. a second node on this
// machine, may open the same file) and applies the migrations. Every deciding step is one
// statement or one transaction; every value goes in as a parameter, never into the SQL text.
// The history's operations are SqliteHistory's (sqliteHistory.ts), on the worker's connection.

import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { migrationsFor, pendingMigrations } from './migrations.js';
import { channelColumns, channelOfRow, credentialsOfRow, keptUsersOfRows, type ChannelRow, type CredentialsRow } from './rows.js';
import { SqliteHistory } from './sqliteHistory.js';
import type { AccountRecord, CertificateResult, ChannelChange, Credentials, KeptUser, NetworkBan, RegisteredChannel } from './store.js';

/**
 * How long a statement waits for another process's write lock before failing (SQLITE_BUSY).
 * Two nodes on one machine sharing the file take turns; a lock held longer than this is a
 * stuck process, and the call fails as STORE_UNAVAILABLE instead of hanging.
 */
const busyTimeoutMs = 5_000;

interface AccountRow extends CredentialsRow {
  name: string;
  email: string | null;
  registered_at: number;
}

interface BanRow {
  mask: string;
  reason: string;
  set_by: string;
  set_at: number;
  expires_at: number | null;
}


/**
 * Switches the file to WAL. Two processes opening a new file at once race for the exclusive lock
 * the switch needs, and SQLite answers the loser SQLITE_BUSY at once, without its busy handler:
 * so we wait and try again ourselves, up to the busy timeout. Runs on the store's worker thread,
 * where a blocking wait stalls no one.
 */
function enterWal(db: Database.Database): void {
  const deadline = Date.now() + busyTimeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(sleeper, 0, 0, 10 + Math.random() * 20);
    }
  }
}

/** Opens the file for writing: WAL, the durability we chose, temporary files in memory, foreign keys. */
function openWritable(file: string): Database.Database {
  const db = new Database(file, { timeout: busyTimeoutMs });
  enterWal(db);
  // In WAL mode NORMAL loses no committed transaction on a process crash, only (at worst) the
  // last ones on a power cut, and commits need no fsync: the usual choice for WAL.
  db.pragma('synchronous = NORMAL');
  // A statement inside a transaction that may abort half-way (a history append's INSERT, whose
  // trigger writes a second table) keeps the pages it changes in a statement journal; past a
  // threshold (64 KiB by default) SQLite spills it to a temporary file, created and deleted
  // within the transaction (open, writes, close, unlink: about every other history batch, ~1 µs
  // of CPU per row). In memory it is a few pages, freed at the statement's end; every query
  // here reads along an index, so no big sort needs the disk either.
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = ON');
  return db;
}

/** The reads, on any connection (the worker's, or the event loop's read-only one). */
export class SqliteReads {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(protected readonly db: Database.Database) {}

  /** A prepared statement, prepared once per connection. */
  protected stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) this.statements.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

  close(): void {
    this.db.close();
  }

  protected accountRow(key: string): AccountRow | undefined {
    return this.stmt('SELECT * FROM accounts WHERE key = ?').get(key) as AccountRow | undefined;
  }

  account(key: string): AccountRecord | null {
    const row = this.accountRow(key);
    if (!row) return null;
    const certificates = (
      this.stmt('SELECT fingerprint FROM certificates WHERE account = ? ORDER BY fingerprint').all(key) as Array<{ fingerprint: string }>
    ).map((r) => r.fingerprint);
    return { name: row.name, email: row.email, registeredAt: row.registered_at, certificates };
  }

  alwaysOn(key: string): boolean {
    const row = this.stmt('SELECT always_on FROM accounts WHERE key = ?').get(key) as { always_on: number } | undefined;
    return row?.always_on === 1;
  }

  autoreplayMissed(key: string): boolean {
    const row = this.stmt('SELECT autoreplay_missed FROM accounts WHERE key = ?').get(key) as { autoreplay_missed: number } | undefined;
    return row?.autoreplay_missed === 1;
  }

  keptUser(key: string): KeptUser | null {
    const rows = this.stmt('SELECT name, kept_user FROM accounts WHERE key = ? AND always_on = 1 AND kept_user IS NOT NULL').all(key) as Array<{ name: string; kept_user: string }>;
    return keptUsersOfRows(rows)[0]?.kept ?? null;
  }

  credentials(key: string): Credentials | null {
    const row = this.accountRow(key);
    return row ? credentialsOfRow(row) : null;
  }

  accountByCertificate(fingerprint: string): string | null {
    const row = this
      .stmt('SELECT a.name FROM certificates c JOIN accounts a ON a.key = c.account WHERE c.fingerprint = ?')
      .get(fingerprint) as { name: string } | undefined;
    return row?.name ?? null;
  }

  channel(key: string): RegisteredChannel | null {
    const row = this
      .stmt('SELECT c.*, a.name AS founder FROM channels c JOIN accounts a ON a.key = c.founder WHERE c.key = ?')
      .get(key) as ChannelRow | undefined;
    return row ? channelOfRow(row) : null;
  }

  channelsFoundedBy(accountKey: string): string[] {
    return (this.stmt('SELECT name FROM channels WHERE founder = ? ORDER BY key').all(accountKey) as Array<{ name: string }>).map((r) => r.name);
  }

  bans(now: number): NetworkBan[] {
    const rows = this
      .stmt('SELECT * FROM network_bans WHERE expires_at IS NULL OR expires_at > ? ORDER BY set_at, key')
      .all(now) as BanRow[];
    return rows.map((r) => ({ mask: r.mask, reason: r.reason, setBy: r.set_by, setAt: r.set_at, expiresAt: r.expires_at }));
  }
}

/** The writes (and the reads), on the worker's connection, which migrates the file first. */
export class SqliteOps extends SqliteReads {
  readonly id: string;
  /** The history's operations, on this connection (the worker calls them as `history.<name>`). */
  readonly history: SqliteHistory;

  constructor(file: string) {
    super(openWritable(file));
    this.migrate(file);
    this.stmt(`INSERT INTO store_meta (key, value) VALUES ('id', ?) ON CONFLICT DO NOTHING`).run(randomUUID());
    this.id = (this.stmt(`SELECT value FROM store_meta WHERE key = 'id'`).get() as { value: string }).value;
    this.history = new SqliteHistory(this.db);
  }

  private migrate(where: string): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
    // IMMEDIATE takes the write lock first: two processes opening a new file at once migrate
    // one after the other, and the second finds nothing left to do.
    const run = this.db.transaction(() => {
      const row = this.stmt('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
      for (const m of pendingMigrations(migrationsFor('sqlite'), row.v ?? 0, where)) {
        this.db.exec(m.sql);
        this.stmt('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
    run.immediate();
  }

  createAccount(key: string, account: Omit<AccountRecord, 'certificates'>, c: Credentials): boolean {
    const result = this
      .stmt(
        `INSERT INTO accounts (key, name, email, registered_at, password_hash, scram_salt, scram_iterations, scram_stored_key, scram_server_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      )
      .run(key, account.name, account.email, account.registeredAt, c.passwordHash, c.scram.salt, c.scram.iterations, c.scram.storedKey, c.scram.serverKey);
    return result.changes === 1;
  }




  setCredentials(key: string, c: Credentials): boolean {
    const result = this
      .stmt(
        `UPDATE accounts SET password_hash = ?, scram_salt = ?, scram_iterations = ?, scram_stored_key = ?, scram_server_key = ? WHERE key = ?`,
      )
      .run(c.passwordHash, c.scram.salt, c.scram.iterations, c.scram.storedKey, c.scram.serverKey, key);
    return result.changes === 1;
  }

  setAlwaysOn(key: string, on: boolean): boolean {
    return this.stmt('UPDATE accounts SET always_on = ?, kept_user = CASE WHEN ? THEN kept_user END WHERE key = ?').run(on ? 1 : 0, on ? 1 : 0, key).changes === 1;
  }

  setAutoreplayMissed(key: string, on: boolean): boolean {
    return this.stmt('UPDATE accounts SET autoreplay_missed = ? WHERE key = ?').run(on ? 1 : 0, key).changes === 1;
  }

  keepUser(key: string, kept: KeptUser): void {
    this.stmt('UPDATE accounts SET kept_user = ? WHERE key = ? AND always_on = 1').run(JSON.stringify(kept), key);
  }

  keptUsers(): Array<{ name: string; kept: KeptUser }> {
    const rows = this.stmt('SELECT name, kept_user FROM accounts WHERE always_on = 1 AND kept_user IS NOT NULL ORDER BY key').all() as Array<{ name: string; kept_user: string }>;
    return keptUsersOfRows(rows);
  }

  /** Certificates and founded channels go with it (ON DELETE CASCADE). */
  dropAccount(key: string): boolean {
    const drop = this.db.transaction((): boolean => {
      if (this.stmt('DELETE FROM accounts WHERE key = ?').run(key).changes !== 1) return false;
      // Its private history goes in the same step (SqliteHistory.forgetAccount says why).
      this.history.forgetAccount(key);
      return true;
    });
    return drop.immediate();
  }

  addCertificate(key: string, fingerprint: string): CertificateResult {
    const add = this.db.transaction((): CertificateResult => {
      if (!this.stmt('SELECT 1 FROM accounts WHERE key = ?').get(key)) return 'noAccount';
      const holder = this.stmt('SELECT account FROM certificates WHERE fingerprint = ?').get(fingerprint) as { account: string } | undefined;
      if (holder) return holder.account === key ? 'exists' : 'taken';
      this.stmt('INSERT INTO certificates (fingerprint, account, added_at) VALUES (?, ?, ?)').run(fingerprint, key, Date.now());
      return 'added';
    });
    return add.immediate();
  }

  removeCertificate(key: string, fingerprint: string): boolean {
    return this.stmt('DELETE FROM certificates WHERE account = ? AND fingerprint = ?').run(key, fingerprint).changes === 1;
  }


  registerChannel(key: string, founderKey: string, ch: Omit<RegisteredChannel, 'founder'>): boolean {
    // The founder must exist in the same step: INSERT ... SELECT inserts nothing otherwise.
    const result = this
      .stmt(
        `INSERT INTO channels (key, name, founder, registered_at, topic, topic_set_by, topic_set_at, modes, channel_key, user_limit)
         SELECT ?, ?, key, ?, ?, ?, ?, ?, ?, ? FROM accounts WHERE key = ?
         ON CONFLICT DO NOTHING`,
      )
      .run(key, ch.name, ch.registeredAt, ch.topic, ch.topicSetBy, ch.topicSetAt, ch.modes, ch.key, ch.limit, founderKey);
    return result.changes === 1;
  }


  updateChannel(key: string, change: ChannelChange): boolean {
    const fields = (Object.keys(change) as Array<keyof ChannelChange>).filter((f) => Object.hasOwn(channelColumns, f) && change[f] !== undefined);
    if (fields.length === 0) return this.stmt('SELECT 1 FROM channels WHERE key = ?').get(key) !== undefined;
    // Column names come from channelColumns (fixed), values are parameters.
    const sets = fields.map((f) => `${channelColumns[f]} = ?`).join(', ');
    const values = fields.map((f) => change[f] ?? null);
    return this.stmt(`UPDATE channels SET ${sets} WHERE key = ?`).run(...values, key).changes === 1;
  }

  dropChannel(key: string): boolean {
    return this.stmt('DELETE FROM channels WHERE key = ?').run(key).changes === 1;
  }


  addBan(key: string, ban: NetworkBan): boolean {
    const result = this
      .stmt('INSERT INTO network_bans (key, mask, reason, set_by, set_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run(key, ban.mask, ban.reason, ban.setBy, ban.setAt, ban.expiresAt);
    return result.changes === 1;
  }

  removeBan(key: string): boolean {
    return this.stmt('DELETE FROM network_bans WHERE key = ?').run(key).changes === 1;
  }

}
