-- Chat history (src/history/history.ts): the entries, each target's entry count, who took part
-- in which private conversation, and read markers. Targets and accounts are folded (the IRC
-- layer folds); times are ms since the epoch.

-- One row per message or event. `seq` is the order of appending: the tie-breaker between
-- entries of one target with the same `at`; it is the rowid, which ends every index of the
-- table, so an index on (target, at) is one on (target, at, seq) without storing seq twice. `params` is a JSON array; `tags` a JSON object, NULL when there are none; `between_accounts`
-- the conversation's two folded accounts as a JSON array (sender first), NULL for a channel.
CREATE TABLE history_entries (
  seq              INTEGER PRIMARY KEY,
  target           TEXT NOT NULL,
  msgid            TEXT NOT NULL,
  at               INTEGER NOT NULL,
  command          TEXT NOT NULL,
  source           TEXT NOT NULL,
  account          TEXT,
  params           TEXT NOT NULL,
  tags             TEXT,
  between_accounts TEXT
) STRICT;
-- Every range read (LATEST, BEFORE, AFTER, AROUND, BETWEEN), the latest entry of a target in a
-- time range (TARGETS), a per-target trim, purge and rename: one range of this index, in either
-- direction, however many entries the table holds.
CREATE INDEX history_entries_by_target ON history_entries (target, at);
-- A msgid is kept once (append skips it when it is here already); a msgid bound, entry() and
-- remove() find their entry by it.
CREATE UNIQUE INDEX history_entries_by_msgid ON history_entries (msgid);
-- Trimming by age takes the oldest entries of every target together, from the front of this
-- one. Its key is the second (at / 1000), an expression the range reads never write, so no
-- planner can take it for them: read backwards by time over every target, a LATEST on a channel
-- that was busy last year and is quiet now would wade through everyone else's entries.
CREATE INDEX history_entries_by_second ON history_entries ((at / 1000));

-- How many entries each target has, kept by the triggers below whatever the statement: trimming
-- to a per-target cap finds the targets over it here, without counting a million rows. A target
-- with no entries has no row.
CREATE TABLE history_targets (
  target  TEXT PRIMARY KEY,
  entries INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER history_entries_added AFTER INSERT ON history_entries BEGIN
  INSERT INTO history_targets (target, entries) VALUES (NEW.target, 1)
    ON CONFLICT (target) DO UPDATE SET entries = entries + 1;
END;

CREATE TRIGGER history_entries_removed AFTER DELETE ON history_entries BEGIN
  UPDATE history_targets SET entries = entries - 1 WHERE target = OLD.target;
  DELETE FROM history_targets WHERE target = OLD.target AND entries <= 0;
END;

CREATE TRIGGER history_entries_moved AFTER UPDATE OF target ON history_entries BEGIN
  UPDATE history_targets SET entries = entries - 1 WHERE target = OLD.target;
  DELETE FROM history_targets WHERE target = OLD.target AND entries <= 0;
  INSERT INTO history_targets (target, entries) VALUES (NEW.target, 1)
    ON CONFLICT (target) DO UPDATE SET entries = entries + 1;
END;

-- The private conversations each account took part in (CHATHISTORY TARGETS lists them), with the
-- other side's account as last seen in its display spelling. Keyed by account first: TARGETS
-- reads one account's rows.
CREATE TABLE history_conversations (
  account TEXT NOT NULL,
  target  TEXT NOT NULL,
  peer    TEXT NOT NULL,
  PRIMARY KEY (account, target)
) STRICT, WITHOUT ROWID;
-- Purging a conversation forgets who took part in it.
CREATE INDEX history_conversations_by_target ON history_conversations (target);

-- draft/read-marker: how far each account has read each target (a time, ms).
CREATE TABLE history_read_markers (
  account TEXT NOT NULL,
  target  TEXT NOT NULL,
  at      INTEGER NOT NULL,
  PRIMARY KEY (account, target)
) STRICT, WITHOUT ROWID;
-- A renamed channel's markers move with it.
CREATE INDEX history_read_markers_by_target ON history_read_markers (target);
