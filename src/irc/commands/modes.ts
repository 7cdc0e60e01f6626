// MODE, for channels and for oneself.
//
// Channel modes (CHANMODES=beIq,k,l,MRimnst, PREFIX=(ov)@+):
//   - `MODE #c`: 324 (the key shown to members only, `*` to others) and 329;
//   - a modestring is parsed here (unknown letters: 472 each, once), then applied by the state
//     in one atomic step that checks the client is an operator (482 otherwise);
//   - the lists b (bans), e (ban exceptions), I (invite exceptions) and q (quiets), and k, l, o
//     and v take a parameter when set; all but l when unset. At most MODES of those per
//     command: the rest are ignored, their parameters consumed. A mode missing its parameter
//     is ignored; a list mode without one (`MODE #c b`, `MODE #c +e`) lists that list: b
//     (367/368) and q (728/729, as Solanum) for anyone, e (348/349) and I (346/347) for the
//     channel's operators only (482 for others), as Solanum: they tell who gets past a ban;
//   - masks are normalised to nick!user@host (`bob` → `bob!*@*`, `~u@h` → `*!~u@h`); a key is
//     cut to KEYLEN; a key or mask that could not be one word (empty, `:` first, space or, for
//     keys, comma) and a limit that is not a positive integer get 696;
//   - what took effect (and only that) is broadcast to the channel as one MODE message, from
//     the client; -k is shown as `-k *`.
// User modes: ±i ±w ±B and -o on oneself (502 for another user, 401 if there is none); 221
// answers a query; unknown letters get one 501; a change is echoed to the client.

import { fold, sameName } from '../wire/casemap.js';
import type { IrcMessage } from '../wire/message.js';
import {
  ERR_BANLISTFULL,
  ERR_CHANOPRIVSNEEDED,
  ERR_INVALIDMODEPARAM,
  ERR_NOSUCHCHANNEL,
  ERR_NOSUCHNICK,
  ERR_UMODEUNKNOWNFLAG,
  ERR_UNKNOWNMODE,
  ERR_USERNOTINCHANNEL,
  ERR_USERSDONTMATCH,
  RPL_BANLIST,
  RPL_CHANNELMODEIS,
  RPL_CREATIONTIME,
  RPL_ENDOFBANLIST,
  RPL_ENDOFEXCEPTLIST,
  RPL_ENDOFINVITELIST,
  RPL_ENDOFQUIETLIST,
  RPL_EXCEPTLIST,
  RPL_INVITELIST,
  RPL_QUIETLIST,
  RPL_UMODEIS,
} from '../wire/numerics.js';
import { channelFlags, isListMode, type BanRecord, type ListMode, type ModeChange } from '../state/networkState.js';
import { withMember, withoutMember, type Client, type Outcome, type CommandContext } from './types.js';
import { KEY_LENGTH, MAX_PARAM_MODES, Reply, cut, from, isChannelName, modeString, sourceOf, unixSeconds } from './common.js';
import { channelRefusal } from './channels.js';
import { rememberChannel } from './chanServ.js';

/**
 * How each list is shown: its entry and end numerics, and whether only the channel's operators
 * may see it. 728/729 carry the mode letter before the mask, as Solanum sends them.
 */
const listReplies: Record<ListMode, { entry: string; end: string; endText: string; opsOnly: boolean }> = {
  b: { entry: RPL_BANLIST, end: RPL_ENDOFBANLIST, endText: 'End of channel ban list', opsOnly: false },
  e: { entry: RPL_EXCEPTLIST, end: RPL_ENDOFEXCEPTLIST, endText: 'End of channel exception list', opsOnly: true },
  I: { entry: RPL_INVITELIST, end: RPL_ENDOFINVITELIST, endText: 'End of channel invite exception list', opsOnly: true },
  q: { entry: RPL_QUIETLIST, end: RPL_ENDOFQUIETLIST, endText: 'End of channel quiet list', opsOnly: false },
};

/** One list's entries and its end, as `listReplies` says. */
function listEntries(r: Reply, channel: string, mode: ListMode, entries: BanRecord[]): void {
  const { entry, end, endText } = listReplies[mode];
  const letter = mode === 'q' ? [mode] : [];
  for (const e of entries) r.numeric(entry, channel, ...letter, e.mask, e.setBy, unixSeconds(e.setAt));
  r.numeric(end, channel, ...letter, endText);
}

/** A parameter that can be a middle param of a reply: not empty, no space, no leading ':'. */
function isWord(s: string): boolean {
  // Control characters (NUL, CR, LF, ESC...) would reach members as spaces or not at all: a
  // key or mask with one could never be typed back, so it is refused like a space.
  return s.length > 0 && !s.startsWith(':') && !/[\x00-\x20\x7f]/.test(s);
}

/** A ban mask in nick!user@host form, missing parts as `*`; null when it cannot be one. */
export function normaliseMask(raw: string): string | null {
  if (!isWord(raw)) return null;
  const bang = raw.indexOf('!');
  const at = raw.indexOf('@', bang + 1);
  let nick = raw;
  let user = '*';
  let host = '*';
  if (bang === -1 && at !== -1) {
    nick = '*';
    user = raw.slice(0, at);
    host = raw.slice(at + 1);
  } else if (bang !== -1) {
    nick = raw.slice(0, bang);
    user = at === -1 ? raw.slice(bang + 1) : raw.slice(bang + 1, at);
    if (at !== -1) host = raw.slice(at + 1);
  }
  return `${nick || '*'}!${user || '*'}@${host || '*'}`;
}

/** MODE <target> [<modestring> [<params>...]]. */
export async function mode(ctx: CommandContext, client: Client, msg: IrcMessage): Promise<Outcome> {
  const target = msg.params[0] ?? '';
  return isChannelName(target) ? channelMode(ctx, client, msg, target) : userMode(ctx, client, msg, target);
}

async function channelMode(ctx: CommandContext, client: Client, msg: IrcMessage, name: string): Promise<Outcome> {
  const r = new Reply(ctx, client);
  const channel = await ctx.state.channel(name);
  if (!channel) return r.numeric(ERR_NOSUCHCHANNEL, name, 'No such channel').outcome();
  const modestring = msg.params[1];
  if (modestring === undefined) {
    const { flags, key, limit } = channel.modes;
    const member = client.nick !== null && (await ctx.state.membership(name, client.nick)) !== null;
    const params: string[] = [];
    if (key !== null) params.push(member ? key : '*');
    if (limit !== null) params.push(String(limit));
    const modes = `+${flags}${key !== null ? 'k' : ''}${limit !== null ? 'l' : ''}`;
    r.numeric(RPL_CHANNELMODEIS, channel.name, modes, ...params);
    r.numeric(RPL_CREATIONTIME, channel.name, unixSeconds(channel.createdAt));
    return r.outcome();
  }

  const args = msg.params.slice(2);
  let next = 0;
  const take = (): string | undefined => args[next++];
  const changes: ModeChange[] = [];
  const unknown = new Set<string>();
  /** Lists asked for (a list mode without a parameter), each once, in the order asked. */
  const listed = new Set<ListMode>();
  let paramModes = 0;
  let adding = true;
  const invalid = (letter: string, param: string, why: string): void => {
    r.numeric(ERR_INVALIDMODEPARAM, channel.name, letter, param, why);
  };
  for (const letter of modestring) {
    if (letter === '+' || letter === '-') {
      adding = letter === '+';
      continue;
    }
    if (channelFlags.has(letter)) {
      changes.push({ adding, mode: letter });
      continue;
    }
    if (!isListMode(letter) && !'klov'.includes(letter)) {
      unknown.add(letter);
      continue;
    }
    const takesParam = adding || letter !== 'l';
    const param = takesParam ? take() : undefined;
    if (isListMode(letter) && param === undefined) {
      listed.add(letter);
      continue;
    }
    if (takesParam && param === undefined) {
      // +k, +l, o or v without its parameter: ignored. (-k without one still unsets.)
      if (!(letter === 'k' && !adding)) continue;
    }
    // MODES counts the changes that carry a parameter (so neither -l nor a bare -k).
    if (param !== undefined && ++paramModes > MAX_PARAM_MODES) continue;
    const p = param ?? '';
    switch (letter) {
      case 'b':
      case 'e':
      case 'I':
      case 'q': {
        const mask = normaliseMask(p);
        if (mask === null) invalid(letter, p, 'Invalid mask');
        else changes.push({ adding, mode: letter, param: mask });
        break;
      }
      case 'k': {
        if (!adding) {
          changes.push({ adding, mode: letter });
          break;
        }
        const key = cut(p, KEY_LENGTH);
        // The refused key is not echoed (`*`): it may hold spaces, and the 696 says enough.
        if (!isWord(key) || key.includes(',')) invalid(letter, '*', 'Invalid key');
        else changes.push({ adding, mode: letter, param: key });
        break;
      }
      case 'l': {
        if (!adding) {
          changes.push({ adding, mode: letter });
          break;
        }
        const limit = Number(p);
        if (!/^\d+$/.test(p) || !Number.isSafeInteger(limit) || limit <= 0) invalid(letter, p, 'Invalid limit');
        else changes.push({ adding, mode: letter, param: String(limit) });
        break;
      }
      default:
        changes.push({ adding, mode: letter, param: p });
    }
  }
  for (const letter of unknown) r.numeric(ERR_UNKNOWNMODE, letter, 'is unknown mode char to me');

  if (changes.length > 0) {
    const result = await ctx.state.applyModes(client.id, name, changes, {
      maxBans: ctx.config.maxBansPerChannel,
      setBy: client.nick ?? '*',
      at: ctx.now(),
    });
    if (!result.ok) {
      channelRefusal(r, result.reason, channel.name);
    } else {
      for (const e of result.errors) {
        if (e.error === 'noSuchNick') r.numeric(ERR_NOSUCHNICK, e.param, 'No such nick/channel');
        else if (e.error === 'notOnChannel') r.numeric(ERR_USERNOTINCHANNEL, e.param, result.channel, "They aren't on that channel");
        else r.numeric(ERR_BANLISTFULL, result.channel, e.mode, 'Channel list is full');
      }
      if (result.applied.length > 0) {
        const { modes, params } = modeString(result.applied);
        r.event([fold(result.channel)], from(sourceOf(client), 'MODE', result.channel, modes, ...params));
        // A registered channel keeps its flags, key and limit (not its ops, voices or lists).
        if (result.applied.some((c) => !isListMode(c.mode) && !'ov'.includes(c.mode))) await rememberChannel(ctx, client, r, result.channel);
      }
    }
  }

  if (listed.size > 0) {
    const lists = await ctx.state.maskLists(name);
    const op = [...listed].some((m) => listReplies[m].opsOnly) && client.nick !== null && (await ctx.state.membership(name, client.nick))?.op === true;
    for (const mode of listed) {
      if (listReplies[mode].opsOnly && !op) r.numeric(ERR_CHANOPRIVSNEEDED, channel.name, "You're not channel operator");
      else listEntries(r, channel.name, mode, lists[mode]);
    }
  }
  return r.outcome();
}

async function userMode(ctx: CommandContext, client: Client, msg: IrcMessage, target: string): Promise<Outcome> {
  const r = new Reply(ctx, client);
  if (client.nick === null || !sameName(target, client.nick)) {
    if (await ctx.state.user(target)) r.numeric(ERR_USERSDONTMATCH, "Can't change mode for other users");
    else r.numeric(ERR_NOSUCHNICK, target, 'No such nick/channel');
    return r.outcome();
  }
  const modestring = msg.params[1];
  if (modestring === undefined) return r.numeric(RPL_UMODEIS, `+${[...client.modes].sort().join('')}`).outcome();
  const applied: ModeChange[] = [];
  let adding = true;
  let unknown = false;
  for (const letter of modestring) {
    if (letter === '+' || letter === '-') adding = letter === '+';
    // ±i, ±w and ±B (a bot) are the user's to set; -o drops operator status, +o is ignored
    // (only OPER gives it).
    else if (letter === 'o' && adding) continue;
    else if (letter !== 'i' && letter !== 'w' && letter !== 'o' && letter !== 'B') unknown = true;
    else if (client.modes.has(letter) !== adding) {
      client.modes = adding ? withMember(client.modes, letter) : withoutMember(client.modes, letter);
      applied.push({ adding, mode: letter });
    }
  }
  if (unknown) r.numeric(ERR_UMODEUNKNOWNFLAG, 'Unknown MODE flag');
  if (applied.length > 0) {
    await ctx.state.setUserModes(client.id, [...client.modes].sort().join(''));
    r.toSelf(from(sourceOf(client), 'MODE', client.nick, modeString(applied).modes));
  }
  return r.outcome();
}
