-- Multiclient's "always on" (NickServ SET ALWAYSON): the account's user stays on the network
-- while no connection of it is open (docs/history.md). Off unless the user turns it on.
ALTER TABLE accounts ADD COLUMN always_on BOOLEAN NOT NULL DEFAULT FALSE;
