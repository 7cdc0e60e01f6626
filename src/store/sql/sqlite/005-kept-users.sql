-- Always-on across restarts: what an always-on account's user was when its server last stopped
-- (or its last connection closed): its channels, user@host, realname and away message, as JSON
-- (KeptUser in src/store/store.ts). The next start puts the user back (docs/history.md). NULL:
-- nothing to bring back.
ALTER TABLE accounts ADD COLUMN kept_user TEXT;
