-- NickServ SET AUTOREPLAY-MISSED: whether an always-on account's next connection, when its client
-- cannot ask for history itself, is sent what the user missed (src/irc/commands/alwaysOn.ts,
-- docs/history.md). On unless the user turns it off (a bot, which would act on old lines again).
ALTER TABLE accounts ADD COLUMN autoreplay_missed INTEGER NOT NULL DEFAULT 1;
