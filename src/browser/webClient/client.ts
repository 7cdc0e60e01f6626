// The web client as the page runs it: ChatClient's state and decisions (chat.ts) joined to
// the handlers of what the server says (incoming.ts), what the user types (commands.ts) and
// how far the user has read (history.ts).

import { ChatClient, type ChatWindow } from './chat.js';
import { runCommand } from './commands.js';
import { markRead } from './history.js';
import { handleMessage } from './incoming.js';
import { parseLine } from './irc.js';

export class WebChat extends ChatClient {
  receive(line: string): void {
    const msg = parseLine(line);
    if (msg) handleMessage(this, msg);
  }

  input(text: string): void {
    if (text.trim()) runCommand(this, text);
  }

  read(w: ChatWindow, now: boolean): void {
    markRead(this, w, now);
  }
}
