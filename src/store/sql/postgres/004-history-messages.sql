-- draft/event-playback: the messages-only index of ../sqlite/004-history-messages.sql, seq last
-- as in history_entries_by_target: the ranges and TARGETS of a client without the capability
-- read it, past no event.
CREATE INDEX history_messages_by_target ON history_entries (target, at, seq) WHERE command IN ('PRIVMSG', 'NOTICE');
