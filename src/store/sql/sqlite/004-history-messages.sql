-- draft/event-playback: events (JOIN, PART, QUIT, KICK, TOPIC, NICK, MODE) are kept beside the
-- messages, and a client without the capability reads messages alone, its limit counting them.
-- This index holds the messages only, in history_entries_by_target's order (the rowid, seq,
-- ends it), so such a range is one range of it however many joins and quits lie between, and
-- TARGETS finds a target's latest message in one probe. SQLite uses a partial index only for a
-- query that repeats its condition: historyRows.ts's messagesFilter writes it the same way.
CREATE INDEX history_messages_by_target ON history_entries (target, at) WHERE command IN ('PRIVMSG', 'NOTICE');
