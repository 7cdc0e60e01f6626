import { describe, expect, it } from 'vitest';
import { harness, START } from './harness.js';

describe('WHO', () => {
  it('lists a channel with H/G flags, prefixes, hopcount 0 and realname, then 315', async () => {
    const h = harness();
    const alice = await h.register('alice', { realname: 'Alice Liddell' });
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #a');
    await h.run(bob, 'JOIN #a');
    await h.run(bob, 'AWAY :out');
    expect((await h.run(bob, 'WHO #A')).to(bob)).toEqual([
      ':irc.test 352 bob #a ~alice 10.0.0.1 irc.test alice H@ :0 Alice Liddell',
      ':irc.test 352 bob #a ~bob 10.0.0.2 irc.test bob G :0 bob real',
      ':irc.test 315 bob #A :End of WHO list',
    ]);
  });

  it('shows every prefix with multi-prefix', async () => {
    const h = harness();
    const alice = await h.register('alice', { caps: ['multi-prefix'] });
    await h.run(alice, 'JOIN #a');
    await h.run(alice, 'MODE #a +v alice');
    expect((await h.run(alice, 'WHO #a')).to(alice)[0]).toBe(':irc.test 352 alice #a ~alice 10.0.0.1 irc.test alice H@+ :0 alice real');
  });

  it('hides a +s channel from non-members and +i members from outsiders', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    const carol = await h.register('carol');
    await h.run(alice, 'JOIN #s,#p');
    await h.run(alice, 'MODE #s +s');
    await h.run(carol, 'MODE carol +i');
    await h.run(carol, 'JOIN #p');
    expect((await h.run(bob, 'WHO #s')).commands(bob)).toEqual(['315']);
    expect((await h.run(bob, 'WHO #p')).to(bob).map((l) => l.split(' ')[1] + ' ' + l.split(' ')[7])).toEqual(['352 alice', '315 list']);
    expect((await h.run(alice, 'WHO #p')).commands(alice)).toEqual(['352', '352', '315']);
  });

  it('matches a mask against nicks, hosts and realnames, hiding +i users who share no channel from masks', async () => {
    const h = harness();
    const alice = await h.register('alice', { ip: '192.0.2.1' });
    const bob = await h.register('bob', { ip: '192.0.2.2', realname: 'Bobby' });
    const carol = await h.register('carol', { ip: '198.51.100.1' });
    await h.run(carol, 'MODE carol +i');
    expect((await h.run(alice, 'WHO 192.0.2.*')).to(alice)).toEqual([
      ':irc.test 352 alice * ~alice 192.0.2.1 irc.test alice H :0 alice real',
      ':irc.test 352 alice * ~bob 192.0.2.2 irc.test bob H :0 Bobby',
      ':irc.test 315 alice 192.0.2.* :End of WHO list',
    ]);
    expect((await h.run(alice, 'WHO bobby')).commands(alice)).toEqual(['352', '315']);
    expect((await h.run(alice, 'WHO car*')).commands(alice)).toEqual(['315']);
    // Named exactly, an invisible user is shown (as WHOIS shows it).
    expect((await h.run(alice, 'WHO carol')).commands(alice)).toEqual(['352', '315']);
    expect((await h.run(carol, 'WHO carol')).commands(carol)).toEqual(['352', '315']);
    await h.run(alice, 'JOIN #x');
    await h.run(carol, 'JOIN #x');
    expect((await h.run(alice, 'WHO CAR*')).commands(alice)).toEqual(['352', '315']);
    expect((await h.run(bob, 'WHO *')).commands(bob)).toEqual(['352', '352', '315']);
  });

  it('finds no operators for the o flag', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'WHO * o')).commands(alice)).toEqual(['315']);
  });
});

describe('WHOX', () => {
  it('answers 354 with the fields asked for, in the spec\'s order whatever the order asked, and the token', async () => {
    const h = harness();
    const alice = await h.register('alice', { ip: '192.0.2.1' });
    const bob = await h.register('bob', { ip: '192.0.2.2', realname: 'Bob Real' });
    await h.run(bob, 'JOIN #x');
    h.clock.now += 7_000;
    const r = await h.run(alice, 'WHO bob %rolaidfnshuct,42');
    expect(r.to(alice)).toEqual([
      ':irc.test 354 alice 42 * ~bob 192.0.2.2 192.0.2.2 irc.test bob H 0 7 0 n/a :Bob Real',
      ':irc.test 315 alice bob :End of WHO list',
    ]);
    // In a channel: its name and the member's prefix; the account once logged in.
    const inChannel = await h.run(bob, 'WHO #x %cnfa');
    expect(inChannel.to(bob)[0]).toBe(':irc.test 354 bob #x bob H@ 0');
    // No token or a bad one is 0; unknown letters are ignored.
    expect((await h.run(alice, 'WHO bob %tnZ,abc')).to(alice)[0]).toBe(':irc.test 354 alice 0 bob');
    // Operators only, WHOX or not.
    expect((await h.run(alice, 'WHO bob o%n')).commands(alice)).toEqual(['315']);
  });

  it('is advertised in ISUPPORT', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'VERSION')).to(alice).some((l) => / WHOX( |$)/.test(l))).toBe(true);
  });
});

describe('WHOIS', () => {
  it('answers 311, 319, 312, 301, 671, 317 and 318', async () => {
    const h = harness();
    const alice = await h.register('alice', { tls: true, realname: 'Alice L' });
    const bob = await h.register('bob');
    await h.run(bob, 'JOIN #b');
    await h.run(alice, 'JOIN #a,#b');
    await h.run(bob, 'MODE #b +v alice');
    await h.run(alice, 'AWAY :brb');
    h.clock.now = START + 42_000;
    expect((await h.run(bob, 'WHOIS ALICE')).to(bob)).toEqual([
      ':irc.test 311 bob alice ~alice 10.0.0.1 * :Alice L',
      ':irc.test 319 bob alice :@#a +#b',
      ':irc.test 312 bob alice irc.test :TestNet IRC server',
      ':irc.test 301 bob alice brb',
      ':irc.test 671 bob alice :is using a secure connection',
      `:irc.test 317 bob alice 42 ${START / 1000} :seconds idle, signon time`,
      ':irc.test 318 bob ALICE :End of /WHOIS list',
    ]);
  });

  it('hides +s channels the asker is not in, but not from the user itself', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(alice, 'JOIN #open,#secret');
    await h.run(alice, 'MODE #secret +s');
    expect((await h.run(bob, 'WHOIS alice')).to(bob)[1]).toBe(':irc.test 319 bob alice @#open');
    expect((await h.run(alice, 'WHOIS alice')).to(alice)[1]).toBe(':irc.test 319 alice alice :@#open @#secret');
  });

  it('answers 401 for an unknown nick, and takes the nick from the second param', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'WHOIS irc.test nobody')).lines).toEqual([
      'alice <- :irc.test 401 alice nobody :No such nick/channel',
      'alice <- :irc.test 318 alice nobody :End of /WHOIS list',
    ]);
  });

  it('writes an IPv6 host that starts with a colon with a leading 0', async () => {
    const h = harness();
    const alice = await h.register('alice', { ip: '::1' });
    expect((await h.run(alice, 'WHOIS alice')).to(alice)[0]).toBe(':irc.test 311 alice alice ~alice 0::1 * :alice real');
    expect((await h.run(alice, 'WHO alice')).to(alice)[0]).toBe(':irc.test 352 alice * ~alice 0::1 irc.test alice H :0 alice real');
  });

  it('omits 319 for a user in no channel', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'WHOIS alice')).commands(alice)).toEqual(['311', '312', '317', '318']);
  });

  it('counts idle time from the last command', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    h.clock.now = START + 100_000;
    await h.run(alice, 'PRIVMSG bob :x');
    h.clock.now = START + 103_500;
    expect((await h.run(bob, 'WHOIS alice')).to(bob).find((l) => l.includes(' 317 '))).toBe(
      `:irc.test 317 bob alice 3 ${START / 1000} :seconds idle, signon time`,
    );
  });
});

describe('WHOWAS', () => {
  it('answers 314 and 312 per remembered holder, newest first, then 369', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(alice, 'NICK alicia');
    h.clock.now = START + 1_000;
    const again = await h.register('alice', { ip: '10.9.9.9' });
    await h.depart(again, 'bye');
    const r = await h.run(bob, 'WHOWAS alice');
    expect(r.to(bob)).toEqual([
      ':irc.test 314 bob alice ~alice 10.9.9.9 * :alice real',
      ':irc.test 312 bob alice irc.test :Tue, 14 Nov 2023 22:13:21 GMT',
      ':irc.test 314 bob alice ~alice 10.0.0.1 * :alice real',
      ':irc.test 312 bob alice irc.test :Tue, 14 Nov 2023 22:13:20 GMT',
      ':irc.test 369 bob alice :End of WHOWAS',
    ]);
    expect((await h.run(bob, 'WHOWAS alice 1')).commands(bob)).toEqual(['314', '312', '369']);
  });

  it('answers 406 then 369 for a nick never seen', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'WHOWAS ghost')).lines).toEqual([
      'alice <- :irc.test 406 alice ghost :There was no such nickname',
      'alice <- :irc.test 369 alice ghost :End of WHOWAS',
    ]);
  });
});

describe('ISON and USERHOST', () => {
  it('ISON lists the nicks online in their own spelling', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.register('Bob');
    expect((await h.run(alice, 'ISON bob carol ALICE')).lines).toEqual(['alice <- :irc.test 303 alice :Bob alice']);
    expect((await h.run(alice, 'ISON :bob carol')).lines).toEqual(['alice <- :irc.test 303 alice Bob']);
    expect((await h.run(alice, 'ISON carol')).lines).toEqual(['alice <- :irc.test 303 alice :']);
  });

  it('USERHOST answers up to five nicks, - for away', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(bob, 'AWAY :x');
    expect((await h.run(alice, 'USERHOST alice bob nobody')).lines).toEqual([
      'alice <- :irc.test 302 alice :alice=+~alice@10.0.0.1 bob=-~bob@10.0.0.2',
    ]);
    expect((await h.run(alice, 'USERHOST n1 n2 n3 n4 n5 alice')).lines).toEqual(['alice <- :irc.test 302 alice :']);
  });
});

describe('VERSION, TIME, LUSERS, MOTD', () => {
  it('VERSION answers 351 then the 005 lines', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const r = await h.run(alice, 'VERSION');
    expect(r.to(alice)[0]).toBe(':irc.test 351 alice test-1.0 irc.test TestNet');
    expect(r.commands(alice)).toEqual(['351', '005', '005', '005']);
  });

  it('INFO answers 371 lines about the server, then 374', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const r = await h.run(alice, 'INFO');
    const commands = r.commands(alice);
    expect(commands.at(-1)).toBe('374');
    expect(new Set(commands.slice(0, -1))).toEqual(new Set(['371']));
    expect(r.to(alice)[0]).toMatch(/^:irc\.test 371 alice :test-1\.0: /);
  });

  it('answers 402 for another server', async () => {
    const h = harness();
    const alice = await h.register('alice');
    for (const cmd of ['VERSION', 'TIME', 'MOTD', 'INFO']) {
      expect((await h.run(alice, `${cmd} other.server`)).lines).toEqual(['alice <- :irc.test 402 alice other.server :No such server']);
    }
    expect((await h.run(alice, 'TIME irc.test')).commands(alice)).toEqual(['391']);
  });

  it('TIME answers 391 with the server time', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'TIME')).lines).toEqual(['alice <- :irc.test 391 alice irc.test :Tue, 14 Nov 2023 22:13:20 GMT']);
  });

  it('LUSERS counts users, invisible ones, unregistered connections and channels', async () => {
    const h = harness();
    const alice = await h.register('alice');
    const bob = await h.register('bob');
    await h.run(bob, 'MODE bob +i');
    await h.run(alice, 'JOIN #a');
    await h.run(h.connect(), 'NICK pending');
    await h.depart(bob, 'bye');
    expect((await h.run(alice, 'LUSERS')).to(alice)).toEqual([
      ':irc.test 251 alice :There are 1 users and 0 invisible on 1 servers',
      ':irc.test 253 alice 1 :unknown connection(s)',
      ':irc.test 254 alice 1 :channels formed',
      ':irc.test 255 alice :I have 1 clients and 0 servers',
      ':irc.test 265 alice 1 2 :Current local users 1, max 2',
      ':irc.test 266 alice 1 2 :Current global users 1, max 2',
    ]);
  });

  it('LUSERS counts +i users as invisible', async () => {
    const h = harness();
    const alice = await h.register('alice');
    await h.run(alice, 'MODE alice +i');
    expect((await h.run(alice, 'LUSERS')).to(alice)[0]).toBe(':irc.test 251 alice :There are 0 users and 1 invisible on 1 servers');
  });
});

describe('AWAY', () => {
  it('sets and clears the away message', async () => {
    const h = harness();
    const alice = await h.register('alice');
    expect((await h.run(alice, 'AWAY :at lunch')).lines).toEqual(['alice <- :irc.test 306 alice :You have been marked as being away']);
    expect(alice.away).toBe('at lunch');
    expect(h.state.user('alice')?.away).toBe('at lunch');
    expect((await h.run(alice, 'AWAY')).lines).toEqual(['alice <- :irc.test 305 alice :You are no longer marked as being away']);
    expect(alice.away).toBeNull();
    expect(h.state.user('alice')?.away).toBeNull();
  });

  it('treats an empty message as back, and cuts a long one to AWAYLEN', async () => {
    const h = harness({ awayLength: 4 });
    const alice = await h.register('alice');
    await h.run(alice, 'AWAY :abcdefg');
    expect(alice.away).toBe('abcd');
    expect((await h.run(alice, 'AWAY :')).commands(alice)).toEqual(['305']);
  });
});
