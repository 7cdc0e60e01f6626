// What the page knows of the server it talks to, from 005 (ISUPPORT), and the channel-member
// rules that depend on it: prefixes (@ +) in NAMES, the modes that give them, the order of the
// member list. Pure.

/** The 005 tokens the page uses, with the values it assumes until told. */
export interface ServerSettings {
  /** NETWORK: the name of the server window. */
  network: string;
  /** PREFIX=(ov)@+: the member modes, highest first, and their symbols. */
  prefixModes: string;
  prefixSymbols: string;
  /** CHANMODES=A,B,C,D: which channel modes take a parameter (A and B always, C when set). */
  chanModes: string[];
  /** CHANTYPES: the first characters of a channel name. */
  chanTypes: string;
  /** CASEMAPPING. */
  caseMapping: string;
  /** WHOX: WHO takes `%<fields>,<token>` (the page's own WHO asks for nicks and flags only). */
  whox: boolean;
}

export function defaultSettings(): ServerSettings {
  return {
    network: 'Server',
    prefixModes: 'ov',
    prefixSymbols: '@+',
    chanModes: ['b', 'k', 'l', 'imnst'],
    chanTypes: '#&',
    caseMapping: 'rfc1459',
    whox: false,
  };
}

/** What one 005 token changes (nothing for a token the page does not use or a bad value). */
export function readIsupport(token: string): Partial<ServerSettings> {
  const eq = token.indexOf('=');
  const key = eq === -1 ? token : token.slice(0, eq);
  const value = eq === -1 ? '' : token.slice(eq + 1);
  switch (key) {
    case 'PREFIX': {
      const m = /^\(([^)]*)\)(.*)$/.exec(value);
      return m && m[1]!.length === m[2]!.length ? { prefixModes: m[1]!, prefixSymbols: m[2]! } : {};
    }
    case 'CHANMODES':
      return { chanModes: value.split(',') };
    case 'CHANTYPES':
      return { chanTypes: value || '#' };
    case 'CASEMAPPING':
      return { caseMapping: value };
    case 'WHOX':
      return { whox: true };
    case 'NETWORK':
      return value ? { network: value } : {};
    default:
      return {};
  }
}

/**
 * The network's services (folded): a message to one is a command, often with a password, which
 * the server does not echo and the page does not show as sending.
 */
export const serviceNicks = ['nickserv', 'chanserv'];

export function isChannel(name: string, settings: ServerSettings): boolean {
  return name.length > 0 && settings.chanTypes.indexOf(name.charAt(0)) !== -1;
}

/** A channel member and the member modes it holds (`o`, `v`...). */
export interface Member {
  nick: string;
  modes: string;
  /** Away: its message ('' when not known yet); absent when here. */
  away?: string;
}

/** 0 for the highest member mode, up to prefixModes.length for none. */
export function rank(member: Member, settings: ServerSettings): number {
  for (let i = 0; i < settings.prefixModes.length; i++) {
    if (member.modes.indexOf(settings.prefixModes.charAt(i)) !== -1) return i;
  }
  return settings.prefixModes.length;
}

/** The symbol shown before a member's nick: its highest prefix, or ''. */
export function symbolOf(member: Member, settings: ServerSettings): string {
  const r = rank(member, settings);
  return r < settings.prefixSymbols.length ? settings.prefixSymbols.charAt(r) : '';
}

/** Members as listed: by rank, then by folded nick. */
export function sortMembers(members: Iterable<Member>, settings: ServerSettings, fold: (name: string) => string): Member[] {
  return [...members].sort((a, b) => rank(a, settings) - rank(b, settings) || (fold(a.nick) < fold(b.nick) ? -1 : 1));
}

/** One entry of a 353 reply (`@+nick`, or `@nick!user@host` with userhost-in-names). */
export function parseNamesEntry(entry: string, settings: ServerSettings): Member | null {
  let modes = '';
  let i = 0;
  for (; i < entry.length; i++) {
    const s = settings.prefixSymbols.indexOf(entry.charAt(i));
    if (s === -1) break;
    modes += settings.prefixModes.charAt(s);
  }
  const nick = entry.slice(i).split('!')[0]!;
  return nick ? { nick, modes } : null;
}

/** A member mode given or taken by a MODE line. */
export interface MemberModeChange {
  nick: string;
  mode: string;
  add: boolean;
}

/**
 * The member modes a channel MODE line changes (`+ov-v alice bob carol`), reading past the
 * parameters of the other modes so that each nick is matched with its mode.
 */
export function memberModeChanges(modes: string, args: readonly string[], settings: ServerSettings): MemberModeChange[] {
  const changes: MemberModeChange[] = [];
  const [listModes = '', alwaysParam = '', paramWhenSet = ''] = settings.chanModes;
  let add = true;
  let next = 0;
  for (const m of modes) {
    if (m === '+' || m === '-') {
      add = m === '+';
    } else if (settings.prefixModes.indexOf(m) !== -1) {
      changes.push({ nick: args[next++] ?? '', mode: m, add });
    } else if (listModes.indexOf(m) !== -1 || alwaysParam.indexOf(m) !== -1 || (add && paramWhenSet.indexOf(m) !== -1)) {
      next++;
    }
  }
  return changes;
}

/** A member's modes after a change. */
export function withMode(modes: string, mode: string, add: boolean): string {
  if (!add) return modes.split(mode).join('');
  return modes.indexOf(mode) === -1 ? modes + mode : modes;
}
