// The pure side of IRC over WebSocket: which subprotocol is chosen, which Origins may connect,
// how --websocket and --websocket-origin are read; and the web client's built script is valid
// JavaScript with nothing that reaches past its own origin.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseServerArgs } from '../../src/cli/args.js';
import { ChatError } from '../../src/core/errors.js';
import { checkOrigin, chooseSubprotocol, normaliseOrigin } from '../../src/transports/handshake.js';
import { pageDir } from '../../src/core/pageFiles.js';

describe('subprotocol negotiation', () => {
  it("takes the first of the client's choices that we speak", () => {
    expect(chooseSubprotocol(['binary.ircv3.net', 'text.ircv3.net'])).toBe('binary.ircv3.net');
    expect(chooseSubprotocol(['text.ircv3.net', 'binary.ircv3.net'])).toBe('text.ircv3.net');
    expect(chooseSubprotocol(['xmpp', 'text.ircv3.net'])).toBe('text.ircv3.net');
  });
  it('chooses none when the client asks for none, or only for others', () => {
    expect(chooseSubprotocol([])).toBeNull();
    expect(chooseSubprotocol(['xmpp', 'TEXT.IRCV3.NET'])).toBeNull();
  });
});

describe('the Origin check', () => {
  const own = { host: 'chat.example:8080', secure: false };
  it("allows the web client's own page: the Host the request came to, with our scheme", () => {
    expect(checkOrigin({ ...own, origin: 'http://chat.example:8080' }, null)).toEqual({ allowed: true });
    expect(checkOrigin({ ...own, origin: 'HTTP://Chat.Example:8080' }, null)).toEqual({ allowed: true });
    expect(checkOrigin({ host: 'chat.example', secure: true, origin: 'https://chat.example' }, null)).toEqual({ allowed: true });
    expect(checkOrigin({ host: 'chat.example:443', secure: true, origin: 'https://chat.example' }, null)).toEqual({ allowed: true });
  });
  it('refuses another scheme, host or port, and pages with no origin ("null")', () => {
    for (const origin of ['https://chat.example:8080', 'http://chat.example:8081', 'http://evil.example:8080', 'null', 'file://', 'http://chat.example:8080.evil.example']) {
      const verdict = checkOrigin({ ...own, origin }, null);
      expect(verdict.allowed, origin).toBe(false);
    }
  });
  it('refuses a request with no Origin unless the list has *', () => {
    expect(checkOrigin({ ...own, origin: undefined }, null)).toEqual({
      allowed: false,
      reason: 'no Origin header: only browsers on an allowed page may connect (see --websocket-origin)',
    });
    expect(checkOrigin({ ...own, origin: undefined }, ['https://a.example'])).toMatchObject({ allowed: false });
    expect(checkOrigin({ ...own, origin: undefined }, ['*'])).toEqual({ allowed: true });
    expect(checkOrigin({ ...own, origin: 'https://any.example' }, ['*'])).toEqual({ allowed: true });
  });
  it('allows the listed origins as well as its own, and says which origin it refused', () => {
    const list = ['https://a.example', 'http://b.example:81'];
    expect(checkOrigin({ ...own, origin: 'https://a.example' }, list)).toEqual({ allowed: true });
    expect(checkOrigin({ ...own, origin: 'http://b.example:81' }, list)).toEqual({ allowed: true });
    expect(checkOrigin({ ...own, origin: 'http://chat.example:8080' }, list)).toEqual({ allowed: true });
    expect(checkOrigin({ ...own, origin: 'https://c.example' }, list)).toEqual({
      allowed: false,
      reason: 'Origin https://c.example is not allowed (see --websocket-origin)',
    });
  });
  it('normalises origins as browsers send them, and refuses what is not one', () => {
    expect(normaliseOrigin('https://Chat.Example:443')).toBe('https://chat.example');
    expect(normaliseOrigin('http://[::1]:8080/')).toBe('http://[::1]:8080');
    for (const bad of ['chat.example', 'ftp://chat.example', 'https://chat.example/path', 'https://u:p@chat.example', 'https://a.example?x']) {
      expect(normaliseOrigin(bad), bad).toBeNull();
    }
  });
});

describe('--websocket and --websocket-origin', () => {
  const run = (argv: string[]) => {
    const r = parseServerArgs(argv);
    if (r.kind !== 'run') throw new Error('expected options');
    return r.options;
  };
  it('reads [host:]port and a list of origins, normalised', () => {
    expect(run(['--protocol', 'irc', '--websocket', '8080']).websocket).toEqual({ host: '127.0.0.1', port: 8080 });
    const o = run(['--protocol', 'irc', '--websocket', '0.0.0.0:8080', '--websocket-origin', 'https://Chat.Example, http://localhost:3000']);
    expect(o.websocket).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(o.websocketOrigins).toEqual(['https://chat.example', 'http://localhost:3000']);
    expect(run(['--websocket', '8080', '--websocket-origin', '*']).websocketOrigins).toEqual(['*']);
  });
  it('refuses an origin that is not one, an empty list, and origins without --websocket', () => {
    const refusal = (argv: string[]) => {
      try {
        parseServerArgs(argv);
      } catch (err) {
        expect(err).toBeInstanceOf(ChatError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal(['--websocket', '1', '--websocket-origin', 'chat.example'])).toBe(
      '--websocket-origin: "chat.example" is not an origin (scheme://host[:port], http or https, no path)',
    );
    expect(refusal(['--websocket', '1', '--websocket-origin', ','])).toBe('--websocket-origin must list at least one origin, or *');
    expect(refusal(['--websocket-origin', '*'])).toBe('--websocket-origin needs --websocket');
  });
});

describe('the web client', () => {
  it('is one valid script, loaded from its own origin, that never builds markup from strings', () => {
    const source = new URL('../../src/browser/webClient/', import.meta.url);
    const built = (name: string) => readFileSync(path.join(pageDir('webClient'), name), 'utf8');
    const bundle = built('app.js');
    expect(() => new vm.Script(bundle)).not.toThrow();
    const markupFromStrings = /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/;
    expect(bundle).not.toMatch(markupFromStrings);
    const modules = readdirSync(source).filter((f) => f.endsWith('.ts'));
    expect(modules).toContain('main.ts');
    for (const name of modules) expect(readFileSync(new URL(name, source), 'utf8'), name).not.toMatch(markupFromStrings);
    const html = built('index.html');
    expect(html).toBe(readFileSync(new URL('index.html', source), 'utf8'));
    expect(html).not.toMatch(/<script>|<style>| on[a-z]+=/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
