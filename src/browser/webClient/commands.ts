// What the user types: text is said in the window shown; `/name args` is a command (the
// `help` list below). `//text` says "/text". Pure: commands act on the ChatClient.

import type { ChatClient } from './chat.js';
import { deleteOwn } from './redaction.js';

export const help = [
  '/join #channel[,#other] [key]: join channels',
  '/part [#channel] [reason]: leave the channel',
  '/nick newnick: change your nick',
  '/msg nick text: send a private message and go to its window (/query nick opens it without sending)',
  '/me text: an action',
  '/delete [reason]: delete your last message here (or click \u00d7 beside one of yours)',
  '/topic [text]: show or set the topic',
  '/rename #newname [reason]: rename the channel (its operators)',
  '/list: browse the channels',
  '/whois nick: who is that',
  '/login password: log in to your account (NickServ IDENTIFY)',
  '/quit [reason]: disconnect',
  '/quote RAW LINE: send a raw IRC line',
];

export function runCommand(chat: ChatClient, text: string): void {
  const w = chat.here();
  if (text.charAt(0) !== '/' || text.charAt(1) === '/') {
    chat.say(w, text.charAt(0) === '/' ? text.slice(1) : text, false);
    return;
  }
  const sp = text.indexOf(' ');
  const name = (sp === -1 ? text.slice(1) : text.slice(1, sp)).toLowerCase();
  const rest = sp === -1 ? '' : text.slice(sp + 1).trim();
  const args = rest ? rest.split(/\s+/) : [];
  const first = args[0] ?? '';
  const usage = (how: string): void => chat.info(w, `Usage: ${how}`, 'error');
  switch (name) {
    case 'join':
    case 'j':
      if (!first) return usage('/join #channel');
      if (args[1] !== undefined) {
        // With a key the names go as typed, and the last one is shown once joined.
        chat.send('JOIN', [first, args[1]]);
        chat.pendingShow = first.split(',').pop() ?? null;
        return;
      }
      return chat.joinChannels(first, true);
    case 'part':
    case 'leave': {
      const named = first !== '' && chat.isChannel(first);
      const channel = named ? first : w.type === 'channel' ? w.name : '';
      if (!channel) return usage('/part #channel');
      const reason = named ? rest.slice(first.length).trim() : rest;
      const cw = chat.findWindow(channel);
      if (cw) cw.rejoin = false;
      chat.send('PART', reason ? [channel, reason] : [channel]);
      return;
    }
    case 'nick':
      if (!first) return usage('/nick newnick');
      if (!chat.registered) chat.wanted = first;
      chat.send('NICK', [first]);
      return;
    case 'msg':
    case 'query': {
      if (!first) return usage(`/${name} nick [text]`);
      const target = chat.isChannel(first) ? chat.findWindow(first) : chat.openWindow(first, 'query');
      if (!target) return chat.info(w, `You are not in ${first}`, 'error');
      chat.show(target);
      const body = rest.slice(first.length).trim();
      if (body) chat.say(target, body, false);
      return;
    }
    case 'me':
      return chat.say(w, rest, true);
    case 'delete':
    case 'redact':
      deleteOwn(chat, w, rest);
      return;
    case 'topic':
      if (w.type !== 'channel') return chat.info(w, 'Use /topic in a channel', 'error');
      chat.send('TOPIC', rest ? [w.name, rest] : [w.name]);
      return;
    case 'rename': {
      if (w.type !== 'channel') return chat.info(w, 'Use /rename in a channel', 'error');
      if (!first) return usage('/rename #newname [reason]');
      const reason = rest.slice(first.length).trim();
      const to = chat.channelName(first);
      chat.send('RENAME', reason ? [w.name, to, reason] : [w.name, to]);
      return;
    }
    case 'list':
      chat.show(chat.serverWindow());
      chat.send('LIST', []);
      return;
    case 'whois':
      if (!first) return usage('/whois nick');
      chat.send('WHOIS', [first]);
      return;
    case 'login':
    case 'identify':
      if (!first) return usage('/login password');
      // As one NickServ command: with echo-message the server does not echo it, so it is not shown.
      chat.send('PRIVMSG', ['NickServ', `IDENTIFY ${chat.knownAccount ?? chat.nick} ${first}`]);
      return;
    case 'close':
      return chat.closeWindow(w);
    case 'quit':
      chat.quitting = true;
      chat.send('QUIT', [rest || 'Leaving']);
      return;
    case 'quote':
    case 'raw':
      chat.sendLine(rest);
      return;
    case 'help':
      for (const line of help) chat.info(w, line);
      return;
    default:
      chat.info(w, `Unknown command /${name}: /help lists them.`, 'error');
  }
}
