// irc-framework ships no types. This covers only what test/irc/clients.ts uses: a client that
// connects, sends, and emits raw lines and a few parsed events (their fields as irc-framework
// 4.14 fills them), and the line parser it exports.
declare module 'irc-framework' {
  export interface ConnectOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    /** Off for tests: a dropped connection must stay dropped. */
    auto_reconnect?: boolean;
    /** Requests the IRCv3 echo-message capability. */
    enable_echomessage?: boolean;
    /** Seconds between client PINGs; 0 sends none. */
    ping_interval?: number;
    ping_timeout?: number;
    /** SASL PLAIN credentials, sent while connecting when the server offers `sasl`. */
    account?: { account: string; password: string };
    /** Closes the connection when SASL fails (default false: registration goes on). */
    sasl_disconnect_on_fail?: boolean;
    version?: string | null;
  }

  export interface RawEvent {
    /** One line, possibly still ending in CR LF when it came from the server. */
    line: string;
    from_server: boolean;
  }

  export interface IrcMessage {
    tags: Record<string, string>;
    prefix: string;
    nick: string;
    ident: string;
    hostname: string;
    command: string;
    params: string[];
  }

  export class Client {
    constructor(options?: Partial<ConnectOptions>);
    connect(options: ConnectOptions): void;
    user: { nick: string; username: string; host: string };
    network: {
      name: string;
      options: Record<string, unknown>;
      cap: { enabled: string[]; isEnabled(name: string): boolean };
    };
    on(event: string, listener: (...args: any[]) => void): this;
    off(event: string, listener: (...args: any[]) => void): this;
    raw(...args: (string | number)[]): void;
    /** Asks for these capabilities too at the next CAP LS. */
    requestCap(caps: string | string[]): void;
    addMonitor(target: string): void;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    tagmsg(target: string, tags: Record<string, string>): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    changeNick(nick: string): void;
    setTopic(channel: string, topic: string): void;
    quit(message?: string): void;
  }

  export function ircLineParser(line: string): IrcMessage;

  const IRC: { Client: typeof Client; ircLineParser: typeof ircLineParser };
  export default IRC;
}
