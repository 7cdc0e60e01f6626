-- Accounts, their credentials and certificates, registered channels and network bans.
-- Keys are the folded names (the IRC layer folds); `name` keeps the display spelling.
-- Times are ms since the epoch.

CREATE TABLE store_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE accounts (
  key           TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  email         TEXT,
  registered_at INTEGER NOT NULL,
  -- scrypt, PHC string form
  password_hash TEXT NOT NULL,
  -- SCRAM-SHA-256 (RFC 5802): base64 salt, StoredKey and ServerKey
  scram_salt       TEXT NOT NULL,
  scram_iterations INTEGER NOT NULL,
  scram_stored_key TEXT NOT NULL,
  scram_server_key TEXT NOT NULL
) STRICT;

-- One fingerprint belongs to one account: SASL EXTERNAL looks it up by fingerprint.
CREATE TABLE certificates (
  fingerprint TEXT PRIMARY KEY,
  account     TEXT NOT NULL REFERENCES accounts(key) ON DELETE CASCADE,
  added_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX certificates_by_account ON certificates(account);

CREATE TABLE channels (
  key           TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  founder       TEXT NOT NULL REFERENCES accounts(key) ON DELETE CASCADE,
  registered_at INTEGER NOT NULL,
  topic         TEXT,
  topic_set_by  TEXT,
  topic_set_at  INTEGER,
  modes         TEXT NOT NULL,
  channel_key   TEXT,
  user_limit    INTEGER
) STRICT;
CREATE INDEX channels_by_founder ON channels(founder);

CREATE TABLE network_bans (
  key        TEXT PRIMARY KEY,
  mask       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  set_by     TEXT NOT NULL,
  set_at     INTEGER NOT NULL,
  expires_at INTEGER
) STRICT;
