// A message going to many clients, and the forms it is serialised in (outbox.ts makes them):
// its own file because a session holds some (a labeled response being gathered) and the outbox
// writes them.

import { serializeMessage, type IrcMessage } from '../wire/message.js';

/**
 * A message going to many clients, serialised at most once per form, on first use. Its
 * `message.tags` are the ones only message-tags clients get; `time` and `account` are added
 * per form.
 */
export interface SharedMessage {
  message: IrcMessage;
  time: string;
  /** The sender's account (account-tag), or null. */
  account: string | null;
  /** Whether `message.tags` holds any tag (else message-tags makes no other form). */
  tagged: boolean;
  /** Lines and their byte lengths, by form (formOf). */
  lines: Array<string | undefined>;
  bytes: Array<number | undefined>;
}

export function shared(message: IrcMessage, time: string, account: string | null = null): SharedMessage {
  return { message, time, account, tagged: hasTags(message), lines: [], bytes: [] };
}

export function hasTags(message: IrcMessage): boolean {
  for (const _ in message.tags) return true;
  return false;
}

/** Forms there are (three bits: server-time, account-tag, message-tags; outbox.ts). */
const FORMS = 8;

/**
 * A message for one client exactly as given (Send.verbatim): every form is the message with
 * its own tags and nothing added, serialised once.
 */
export function verbatim(message: IrcMessage): SharedMessage {
  const line = serializeMessage(message);
  const bytes = Buffer.byteLength(line);
  return { message, time: '', account: null, tagged: hasTags(message), lines: new Array<string>(FORMS).fill(line), bytes: new Array<number>(FORMS).fill(bytes) };
}
