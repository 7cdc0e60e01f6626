// The rows both stores read, and the records they become: the schema's column names are the
// same in SQLite and PostgreSQL (src/store/sql/), so the mapping is written once.

import type { ChannelChange, Credentials, KeptUser, RegisteredChannel } from './store.js';

/** A `channels` row joined with its founder's display name. */
export interface ChannelRow {
  name: string;
  founder: string;
  registered_at: number;
  topic: string | null;
  topic_set_by: string | null;
  topic_set_at: number | null;
  modes: string;
  channel_key: string | null;
  user_limit: number | null;
}

/** The credential columns of an `accounts` row. */
export interface CredentialsRow {
  password_hash: string;
  scram_salt: string;
  scram_iterations: number;
  scram_stored_key: string;
  scram_server_key: string;
}

export function channelOfRow(row: ChannelRow): RegisteredChannel {
  return {
    name: row.name,
    founder: row.founder,
    registeredAt: row.registered_at,
    topic: row.topic,
    topicSetBy: row.topic_set_by,
    topicSetAt: row.topic_set_at,
    modes: row.modes,
    key: row.channel_key,
    limit: row.user_limit,
  };
}

export function credentialsOfRow(row: CredentialsRow): Credentials {
  return {
    passwordHash: row.password_hash,
    scram: { salt: row.scram_salt, iterations: row.scram_iterations, storedKey: row.scram_stored_key, serverKey: row.scram_server_key },
  };
}

/** Which column each field of a ChannelChange writes (a partial change sets only its fields). */
export const channelColumns = {
  topic: 'topic',
  topicSetBy: 'topic_set_by',
  topicSetAt: 'topic_set_at',
  modes: 'modes',
  key: 'channel_key',
  limit: 'user_limit',
} as const satisfies Record<keyof ChannelChange, string>;

/**
 * The always-on users kept (kept_user, JSON written by keepUser). A row that does not read as
 * one (edited by hand) is skipped: not worth failing a start over.
 */
export function keptUsersOfRows(rows: ReadonlyArray<{ name: string; kept_user: string }>): Array<{ name: string; kept: KeptUser }> {
  const users: Array<{ name: string; kept: KeptUser }> = [];
  for (const row of rows) {
    let value: Partial<KeptUser>;
    try {
      value = JSON.parse(row.kept_user) as Partial<KeptUser>;
    } catch {
      continue;
    }
    const text = (v: unknown): v is string => typeof v === 'string';
    if (!Array.isArray(value.channels) || !text(value.user) || !text(value.host) || !text(value.realname)) continue;
    users.push({
      name: row.name,
      kept: {
        channels: value.channels.filter(text),
        user: value.user,
        host: value.host,
        realname: value.realname,
        away: text(value.away) ? value.away : null,
        leftAt: Number.isSafeInteger(value.leftAt) ? value.leftAt! : null,
        kicks: Array.isArray(value.kicks) ? value.kicks.filter((k) => text(k?.channel) && text(k.by) && text(k.reason) && Number.isSafeInteger(k.at)) : [],
      },
    });
  }
  return users;
}
