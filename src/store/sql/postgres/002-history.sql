-- Chat history: the SQLite schema (../sqlite/002-history.sql) in PostgreSQL types. Text keys
-- collate "C" (byte order, as SQLite compares); times are ms since the epoch (BIGINT).

-- One row per message or event; `seq` is the order of appending, the tie-breaker between
-- entries of one target with the same `at`. `params` a JSON array, `tags` a JSON object (NULL:
-- none), `between_accounts` the conversation's two folded accounts, sender first (NULL: a
-- channel); kept as text, never queried into.
CREATE TABLE history_entries (
  seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  target           TEXT COLLATE "C" NOT NULL,
  msgid            TEXT COLLATE "C" NOT NULL,
  at               BIGINT NOT NULL,
  command          TEXT NOT NULL,
  source           TEXT NOT NULL,
  account          TEXT,
  params           TEXT NOT NULL,
  tags             TEXT,
  between_accounts TEXT
);
-- Every range read (LATEST, BEFORE, AFTER, AROUND, BETWEEN: `target = $1 AND (at, seq) > ...`),
-- the latest entry of a target in a time range (TARGETS), a per-target trim, purge and rename:
-- one range of this index, forwards or backwards, however many entries the table holds.
CREATE INDEX history_entries_by_target ON history_entries (target, at, seq);
-- A msgid is kept once (append: ON CONFLICT (msgid) DO NOTHING); a msgid bound, entry() and
-- remove() find their entry by it.
CREATE UNIQUE INDEX history_entries_by_msgid ON history_entries (msgid);
-- Trimming by age takes the oldest entries of every target together, from the front of this
-- one. Its key is the second (at / 1000), an expression the range reads never write, so no
-- planner can take it for them: read backwards by time over every target, a LATEST on a channel
-- that was busy last year and is quiet now would wade through everyone else's entries.
CREATE INDEX history_entries_by_second ON history_entries ((at / 1000));

-- How many entries each target has, kept by the trigger below whatever the statement: trimming
-- to a per-target cap finds the targets over it here, without counting a million rows. A target
-- with no entries has no row.
CREATE TABLE history_targets (
  target  TEXT COLLATE "C" PRIMARY KEY,
  entries BIGINT NOT NULL
);

-- Once per statement, from its transition tables: one update per target, whatever the number of
-- rows. Counts are added in target order, so that two appends to the same targets lock their
-- rows in the same order.
CREATE FUNCTION history_count_entries() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE history_targets t SET entries = t.entries - gone.n
      FROM (SELECT target, count(*) AS n FROM removed GROUP BY target) gone
      WHERE t.target = gone.target;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO history_targets (target, entries)
      SELECT target, count(*) FROM added GROUP BY target ORDER BY target
      ON CONFLICT (target) DO UPDATE SET entries = history_targets.entries + excluded.entries;
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    DELETE FROM history_targets WHERE entries <= 0 AND target IN (SELECT target FROM removed);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER history_entries_added AFTER INSERT ON history_entries
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION history_count_entries();
CREATE TRIGGER history_entries_removed AFTER DELETE ON history_entries
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION history_count_entries();
CREATE TRIGGER history_entries_moved AFTER UPDATE ON history_entries
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION history_count_entries();

-- The private conversations each account took part in (CHATHISTORY TARGETS lists them), with the
-- other side's account as last seen in its display spelling. Keyed by account first: TARGETS
-- reads one account's rows.
CREATE TABLE history_conversations (
  account TEXT COLLATE "C" NOT NULL,
  target  TEXT COLLATE "C" NOT NULL,
  peer    TEXT NOT NULL,
  PRIMARY KEY (account, target)
);
-- Purging a conversation forgets who took part in it.
CREATE INDEX history_conversations_by_target ON history_conversations (target);

-- draft/read-marker: how far each account has read each target (a time, ms).
CREATE TABLE history_read_markers (
  account TEXT COLLATE "C" NOT NULL,
  target  TEXT COLLATE "C" NOT NULL,
  at      BIGINT NOT NULL,
  PRIMARY KEY (account, target)
);
-- A renamed channel's markers move with it.
CREATE INDEX history_read_markers_by_target ON history_read_markers (target);
