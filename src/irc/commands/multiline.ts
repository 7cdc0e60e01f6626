// draft/multiline (IRCv3): a message of several lines, sent as a client batch
//   BATCH +ref draft/multiline <target>
//   @batch=ref PRIVMSG <target> :first line
//   @batch=ref;draft/multiline-concat PRIVMSG <target> :continues the first line
//   BATCH -ref
// The lines are kept on the client (Client.batch, bounded by multilineMaxBytes and
// multilineMaxLines) until BATCH -ref, then delivered as one message: clients that enabled
// draft/multiline get the batch with a batch ref of the server's and the msgid on its BATCH
// line; the others get its non-blank lines one by one, the first carrying the msgid. Errors are
// standard replies (FAIL BATCH <code>); a batch that broke a rule is dropped whole at its end.

import { fold } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import { Reply, sourceOf, standardReply, type Handler } from './common.js';
import { entryOf } from './history.js';
import { relayedTags, resolveTarget } from './messaging.js';
import type { Client, CommandContext, Outcome } from './types.js';

const BATCH_TYPE = 'draft/multiline';
const CONCAT_TAG = 'draft/multiline-concat';

/** `max-bytes=...,max-lines=...`: what CAP LS 302 says after draft/multiline. */
export function multilineCapValue(ctx: CommandContext): string {
  return `max-bytes=${ctx.config.multilineMaxBytes},max-lines=${ctx.config.multilineMaxLines}`;
}

/** BATCH +ref draft/multiline <target> | BATCH -ref. */
export const batch: Handler = async (ctx, client, msg) => {
  const r = new Reply(ctx, client);
  const fail = (code: string, ...rest: string[]): Outcome => r.toSelf(standardReply(ctx, 'FAIL', 'BATCH', code, ...rest)).outcome();
  const ref = msg.params[0]!;
  if (ref.startsWith('+')) {
    if (client.batch !== null) return fail('MULTILINE_INVALID', 'A batch is already open: close it first');
    if (msg.params[1] !== BATCH_TYPE) return fail('UNKNOWN_TYPE', msg.params[1] ?? '*', 'Only draft/multiline batches can be sent');
    const target = msg.params[2];
    if (target === undefined || ref.length < 2) return fail('MULTILINE_INVALID', 'BATCH +ref draft/multiline needs a reference and a target');
    const label = msg.tags.label ?? null;
    client.batch = { ref: ref.slice(1), target, command: null, tags: relayedTags(client, msg) ?? {}, lines: [], bytes: 0, failed: false, label };
    return r.outcome();
  }
  const open = client.batch;
  if (!ref.startsWith('-') || open === null || open.ref !== ref.slice(1)) return fail('INVALID_REFTAG', ref, 'No such batch is open');
  client.batch = null;
  if (open.failed) return r.outcome();
  if (open.command === null || open.lines.every((l) => l.text === '')) return fail('MULTILINE_INVALID', 'A multiline message needs some text');
  if (open.lines[0]!.concat) return fail('MULTILINE_INVALID', 'The first line cannot continue another');
  return deliver(ctx, client, r, open.command, open.target, open.lines, open.tags);
};

/**
 * A line of the client's open batch (a message with its `batch` tag): kept, or the batch marked
 * failed with one FAIL when it breaks a rule. The dispatcher sends every tagged line here.
 */
export function batchLine(ctx: CommandContext, client: Client, msg: IrcMessage): Outcome {
  const r = new Reply(ctx, client);
  const open = client.batch;
  if (open === null || msg.tags.batch !== open.ref) {
    return r.toSelf(standardReply(ctx, 'FAIL', 'BATCH', 'INVALID_REFTAG', msg.tags.batch ?? '*', 'No such batch is open')).outcome();
  }
  if (open.failed) return r.outcome();
  const failWith = (code: string, ...rest: string[]): Outcome => {
    open.failed = true;
    return r.toSelf(standardReply(ctx, 'FAIL', 'BATCH', code, ...rest)).outcome();
  };
  const command = msg.command.toUpperCase();
  if ((command !== 'PRIVMSG' && command !== 'NOTICE') || (open.command !== null && command !== open.command)) {
    return failWith('MULTILINE_INVALID', 'A multiline message is PRIVMSG or NOTICE lines, all the same');
  }
  const target = msg.params[0] ?? '';
  if (fold(target) !== fold(open.target)) return failWith('MULTILINE_INVALID_TARGET', open.target, target, 'Every line goes to the batch\'s target');
  const text = msg.params[1] ?? '';
  const bytes = open.bytes + Buffer.byteLength(text, 'utf8');
  if (bytes > ctx.config.multilineMaxBytes) return failWith('MULTILINE_MAX_BYTES', String(ctx.config.multilineMaxBytes), 'The multiline message is too long');
  if (open.lines.length + 1 > ctx.config.multilineMaxLines) return failWith('MULTILINE_MAX_LINES', String(ctx.config.multilineMaxLines), 'The multiline message has too many lines');
  const concat = msg.tags[CONCAT_TAG] !== undefined;
  if (concat && text === '') return failWith('MULTILINE_INVALID', 'A continued line cannot be blank');
  open.command = command;
  open.bytes = bytes;
  open.lines.push({ text, concat });
  return r.outcome();
}

/** Delivers a finished multiline message: the batch to draft/multiline clients, lines to the rest. */
async function deliver(
  ctx: CommandContext,
  client: Client,
  r: Reply,
  command: string,
  target: string,
  lines: Array<{ text: string; concat: boolean }>,
  tags: Record<string, string>,
): Promise<Outcome> {
  const notice = command === 'NOTICE';
  const to = await resolveTarget(ctx, client, target, (code, ...params) => {
    if (!notice) r.numeric(code, ...params);
  });
  if (to === null || to.kind === 'service') return r.outcome();
  const source = sourceOf(client);
  const msgid = ctx.newMsgid();
  const ref = ctx.newMsgid();
  // Every form of the message, and the echo, shows one time.
  const at = ctx.now();
  const time = new Date(at).toISOString();
  const batchForm: IrcMessage[] = [
    { tags: { msgid, ...tags }, source, command: 'BATCH', params: [`+${ref}`, BATCH_TYPE, to.name] },
    ...lines.map((l): IrcMessage => ({ tags: l.concat ? { batch: ref, [CONCAT_TAG]: '' } : { batch: ref }, source, command, params: [to.name, l.text] })),
    { tags: {}, source, command: 'BATCH', params: [`-${ref}`] },
  ];
  for (const t of to.targets) for (const message of batchForm) r.send({ to: t, message, onlyCap: BATCH_TYPE, time });
  // The others get its lines one by one, blank ones left out: each with the message's
  // client-only tags, the first with its msgid.
  // The history keeps those lines (a replay shows them one by one), each under an id of its
  // own: the msgid, then msgid-1, msgid-2... (REDACT of the msgid forgets them all).
  const kept = !(to.kind === 'channel' && to.status !== '');
  let n = 0;
  for (const l of lines) {
    if (l.text === '') continue;
    const message: IrcMessage = { tags: n === 0 ? { msgid, ...tags } : { ...tags }, source, command, params: [to.name, l.text] };
    for (const t of to.targets) r.send({ to: t, message, capVariant: { cap: BATCH_TYPE, message: null }, time });
    if (kept) {
      const stored = n === 0 ? message : { ...message, tags: { msgid: `${msgid}-${n}`, ...tags } };
      r.keep(entryOf(ctx, client, stored, at, to.kind === 'channel' ? { kind: 'channel', name: to.name } : { kind: 'user', account: to.account }));
    }
    n++;
  }
  if (client.caps.has('echo-message')) for (const message of batchForm) r.send({ to: { kind: 'self' }, message, time });
  return r.outcome();
}
