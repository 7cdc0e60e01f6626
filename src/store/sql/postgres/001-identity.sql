-- Accounts, their credentials and certificates, registered channels and network bans: the
-- SQLite schema (../sqlite/001-identity.sql) in PostgreSQL types.
-- Keys are the folded names (the IRC layer folds); `name` keeps the display spelling.
-- Key columns collate "C" so that they compare and sort byte by byte, as SQLite's do, whatever
-- locale the cluster was created with. Times are ms since the epoch (BIGINT).

CREATE TABLE store_meta (
  key   TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE accounts (
  key           TEXT COLLATE "C" PRIMARY KEY,
  name          TEXT NOT NULL,
  email         TEXT,
  registered_at BIGINT NOT NULL,
  -- scrypt, PHC string form
  password_hash TEXT NOT NULL,
  -- SCRAM-SHA-256 (RFC 5802): base64 salt, StoredKey and ServerKey
  scram_salt       TEXT NOT NULL,
  scram_iterations INTEGER NOT NULL,
  scram_stored_key TEXT NOT NULL,
  scram_server_key TEXT NOT NULL
);

-- One fingerprint belongs to one account: SASL EXTERNAL looks it up by fingerprint.
CREATE TABLE certificates (
  fingerprint TEXT COLLATE "C" PRIMARY KEY,
  account     TEXT COLLATE "C" NOT NULL REFERENCES accounts(key) ON DELETE CASCADE,
  added_at    BIGINT NOT NULL
);
CREATE INDEX certificates_by_account ON certificates(account);

CREATE TABLE channels (
  key           TEXT COLLATE "C" PRIMARY KEY,
  name          TEXT NOT NULL,
  founder       TEXT COLLATE "C" NOT NULL REFERENCES accounts(key) ON DELETE CASCADE,
  registered_at BIGINT NOT NULL,
  topic         TEXT,
  topic_set_by  TEXT,
  topic_set_at  BIGINT,
  modes         TEXT NOT NULL,
  channel_key   TEXT,
  user_limit    INTEGER
);
CREATE INDEX channels_by_founder ON channels(founder);

CREATE TABLE network_bans (
  key        TEXT COLLATE "C" PRIMARY KEY,
  mask       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  set_by     TEXT NOT NULL,
  set_at     BIGINT NOT NULL,
  expires_at BIGINT
);
