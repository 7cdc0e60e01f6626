// The life of one IRC client, from accept to close: connect notice, registration (CAP may hold
// it open; PASS, NICK and USER in any order; a deadline), the registered session with its
// keep-alive PINGs, and every way out (QUIT, timeouts, a flood, a full send queue, the socket
// failing, server shutdown). This machine decides; it never touches a socket. The session
// adapter (protocol.ts beside it) frames and queues the client's lines, hands them over as
// `irc.message` one at a time (after flood control, and only once the previous command has
// finished, even when the network state answered asynchronously), and provides the actions.
//
// What a command does is the command table's business (src/irc/commands/table.ts). What this
// machine decides is whether a command may run in the current state: before registration only
// the commands the table marks `usablePreReg` run, every other gets 451 ERR_NOTREGISTERED. The
// handlers report registration facts back (`irc.nickSet`, `irc.userSet`, ...) and this machine
// decides when registration is complete. Its `registered` state (tag `registered`) is the one
// place that says a client is registered; the Client record reads it from here.

import { assertEvent, assign, cancel, raise, setup } from 'xstate';
import { isUsablePreReg, preRegistrationCommands } from '../commands/table.js';
import type { IrcMessage } from '../wire/message.js';

/** Why a session ended; logged, and the text others see in the QUIT. */
export type IrcCloseReason =
  | 'quit' // the client sent QUIT
  | 'registrationTimeout' // not registered within registrationTimeoutMs
  | 'pingTimeout' // no answer to our PING within pingTimeoutMs
  | 'sendqExceeded' // it did not read its output: more than sendqBytes waiting
  | 'excessFlood' // more than recvqBytes of commands waiting to run
  | 'readqExceeded' // one line ran past readqBytes, ended or not
  | 'welcomeFailed' // the welcome could not put it on the network (Redis or the store away)
  | 'badPassword' // PASS missing or wrong when the server has a password
  | 'killed' // an operator's KILL, NickServ GHOST, or a network ban
  | 'tooManyFromIp' // maxConnectionsPerIp reached for its address
  | 'clientEnded' // the client ended its side (FIN)
  | 'clientGone' // the socket closed under us
  | 'socketError' // the socket failed (ECONNRESET, EPIPE, ...)
  | 'relayEnded' // relayed to its user's home node, which closed it (and said why)
  | 'relayLost' // relayed to its user's home node, which is gone or unreachable
  | 'shutdown'; // the server is shutting down

export interface IrcSessionLimits {
  registrationTimeoutMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  closeTimeoutMs: number;
  /** A registered nick used without its account is renamed after this long (irc.nickUnowned). */
  nickEnforceGraceMs: number;
}

export interface IrcSessionInput {
  id: number;
  /** `address:port` of the client, for logs. */
  remote: string;
  limits: IrcSessionLimits;
  /** Its address already has maxConnectionsPerIp sessions (counted by the adapter). */
  overIpLimit: boolean;
  /** True when the server has a password, so PASS is required. */
  passwordRequired: boolean;
}

export interface IrcSessionContext extends IrcSessionInput {
  hasNick: boolean;
  hasUser: boolean;
  /** What PASS said: null when none was given (fine unless the server has a password). */
  passMatches: boolean | null;
  closeReason: IrcCloseReason | null;
  /** The QUIT message (`Quit: bye`), for closeReason `quit`. Raw client text. */
  quitMessage: string | null;
  /** The socket error's code (e.g. ECONNRESET), if one ended the session. */
  socketErrorCode: string | null;
}

export type IrcSessionEvent =
  // From the session adapter: one parsed command, its turn to run.
  | { type: 'irc.message'; message: IrcMessage }
  // From the command handlers (via the adapter), facts the machine decides registration on.
  | { type: 'irc.capHeld' }
  | { type: 'irc.capEnded' }
  | { type: 'irc.nickSet' }
  | { type: 'irc.userSet' }
  | { type: 'irc.passGiven'; matches: boolean }
  | { type: 'irc.quit'; reason: string }
  // From the welcome: the account's user lives on another node, which serves this client from now on.
  | { type: 'irc.relayed'; home: number }
  // From the network, for a relayed client: its home closed it, or is gone.
  | { type: 'relay.ended' }
  | { type: 'relay.lost' }
  // From the handlers: the client holds a registered nick without being logged in to its
  // account (the grace starts), or no longer does (it logged in, or changed nick).
  | { type: 'irc.nickUnowned' }
  | { type: 'irc.nickOwned' }
  | { type: 'timer.nickEnforce' }
  // From the adapter: the welcome could not put the client on the network, with the reason.
  | { type: 'irc.welcomeFailed'; reason: string }
  // From the network: the client is removed (KILL, GHOST, a network ban), with the reason.
  | { type: 'irc.killed'; reason: string }
  // From the adapter's limits on what a client may leave waiting.
  | { type: 'client.flood' }
  | { type: 'client.readqExceeded' }
  | { type: 'client.sendqExceeded' }
  // From the socket, one per node:net socket event.
  | { type: 'socket.end' }
  | { type: 'socket.error'; code: string; message: string }
  | { type: 'socket.close' }
  // From the server machine's notifyConnections.
  | { type: 'server.shutdown' };

/** What produces each event: feeds the table in docs/statechart.md (typed, so none is missed). */
export const ircSessionEventSources: Record<IrcSessionEvent['type'], string> = {
  'irc.message':
    'the adapter: the next framed, parsed line, once flood control allows and the previous command has finished',
  'irc.capHeld': 'the CAP handler: `CAP LS` or `CAP REQ` before registration',
  'irc.capEnded': 'the CAP handler: `CAP END`',
  'irc.nickSet': 'the NICK handler: the nick was claimed',
  'irc.userSet': 'the USER handler: username and realname accepted',
  'irc.passGiven': 'the PASS handler, saying whether it matches the server password',
  'irc.quit': 'the QUIT handler, with the reason others will see',
  'irc.relayed': "the welcome (multiclient): the account's user lives on another node (its home), which runs this client's commands from now on",
  'relay.ended': "the bus: the user's home node closed this relayed client (its goodbye is already written)",
  'relay.lost': "the bus: the user's home node is gone (its heartbeat stopped) or messages from it were lost",
  'irc.nickUnowned': "the welcome, NICK and NickServ LOGOUT: the client holds a registered nick without being logged in to its account",
  'irc.nickOwned': 'the same handlers and every login: the nick is now its own, or free',
  'timer.nickEnforce': 'the machine itself, `nickEnforceGraceMs` after `irc.nickUnowned` (a delayed `raise`, cancelled by `irc.nickOwned`)',
  'irc.welcomeFailed': 'the adapter: the welcome failed because the network state (Redis) or the store was unreachable',
  'irc.killed': "the network: NickServ GHOST, an operator's KILL or a network ban, from any node",
  'client.flood': 'the adapter: more than `recvqBytes` of commands are waiting to run',
  'client.readqExceeded': 'the adapter: one line ran past `readqBytes`, ended or not (the framer stops there)',
  'client.sendqExceeded': 'the adapter: more than `sendqBytes` of output is waiting for the client to read it',
  'socket.end': "`'end'` on the socket: the client half-closed (sent FIN; over WebSocket, its close frame)",
  'socket.error': "`'error'` on the socket (ECONNRESET, EPIPE, ...); Node destroys it",
  'socket.close': "`'close'` on the socket: both directions are closed",
  'server.shutdown': "the server machine's `notifyConnections` action, on `server.shutdown`",
};

/** The reason others see in the QUIT and the client in its `ERROR :Closing link`. */
export function quitText(context: IrcSessionContext): string {
  switch (context.closeReason) {
    case 'quit':
      return context.quitMessage ?? 'Client Quit';
    case 'registrationTimeout':
      return 'Registration timed out';
    case 'pingTimeout': {
      // In seconds as ircds say it (`Ping timeout: 60 seconds`); tenths for sub-second tests.
      const seconds = Math.round(context.limits.pingTimeoutMs / 100) / 10;
      return `Ping timeout: ${seconds} second${seconds === 1 ? '' : 's'}`;
    }
    case 'sendqExceeded':
      return 'SendQ exceeded';
    case 'excessFlood':
      return 'Excess Flood';
    case 'readqExceeded':
      return 'ReadQ exceeded';
    case 'welcomeFailed':
      return context.quitMessage ?? 'Registration failed';
    case 'badPassword':
      return 'Bad password';
    case 'killed':
      return context.quitMessage ?? 'Killed';
    case 'tooManyFromIp':
      return 'Too many connections from your IP address';
    case 'socketError':
      return `Read error: ${context.socketErrorCode ?? 'connection failed'}`;
    case 'shutdown':
      return 'Server shutting down';
    case 'relayLost':
      return 'Lost the server holding your session';
    case 'clientEnded':
    case 'clientGone':
    default:
      return 'Connection closed';
  }
}

export const ircSessionMachine = setup({
  types: {
    context: {} as IrcSessionContext,
    events: {} as IrcSessionEvent,
    input: {} as IrcSessionInput,
  },
  actions: {
    // Side effects, provided by the adapter. The defaults do nothing so that the machine can
    // be run (and drawn) on its own.
    logOpened: () => {},
    /** `NOTICE * :<greeting>` before anything is read, as ircds send their connect notices. */
    sendConnectNotice: () => {},
    /** Resume reading the socket (it was accepted paused). */
    startReading: () => {},
    /** Run the event's command through the command table (it may finish later). */
    runCommand: () => {},
    /** 451 ERR_NOTREGISTERED for a command not usable before registration. */
    replyNotRegistered: () => {},
    /** 464 ERR_PASSWDMISMATCH. */
    refusePassword: () => {},
    /**
     * 001-005, LUSERS and the MOTD; the client is now visible on the network. The log line
     * comes with it, once the welcome has settled the nick (a guest's, or its user's).
     */
    welcome: () => {},
    /** Hand the client to its user's home node: from now on its bytes go there and back. */
    startRelay: () => {},
    /** PING the client to see if it is still there. */
    sendPing: () => {},
    /** Take the client off the network: QUIT to everyone sharing a channel, nick freed (once). */
    depart: () => {},
    /** `ERROR :Closing link: ... [reason]`, then end our side (FIN). */
    endSocket: () => {},
    /** Give up on a client that neither reads nor closes. */
    destroySocket: () => {},
    /** The grace is over: if it still holds a registered nick not its own, rename it to a guest nick. */
    enforceNick: () => {},
    scheduleNickEnforcement: raise({ type: 'timer.nickEnforce' }, { id: 'nickEnforce', delay: 'nickEnforceGrace' }),
    cancelNickEnforcement: cancel('nickEnforce'),
    logSocketError: () => {},
    logClosed: () => {},

    recordNick: assign({ hasNick: true }),
    recordUser: assign({ hasUser: true }),
    recordPass: assign({
      passMatches: ({ event }) => {
        assertEvent(event, 'irc.passGiven');
        return event.matches;
      },
    }),
    recordQuit: assign({
      closeReason: 'quit' as const,
      quitMessage: ({ event }) => {
        assertEvent(event, 'irc.quit');
        return event.reason;
      },
    }),
    recordWelcomeFailure: assign({
      closeReason: 'welcomeFailed' as const,
      quitMessage: ({ event }) => {
        assertEvent(event, 'irc.welcomeFailed');
        return event.reason;
      },
    }),
    recordKill: assign({
      closeReason: 'killed' as const,
      quitMessage: ({ event }) => {
        assertEvent(event, 'irc.killed');
        return event.reason;
      },
    }),
    recordSocketError: assign({
      closeReason: 'socketError' as const,
      socketErrorCode: ({ event }) => {
        assertEvent(event, 'socket.error');
        return event.code;
      },
    }),
    closeForRegistrationTimeout: assign({ closeReason: 'registrationTimeout' as const }),
    closeForPingTimeout: assign({ closeReason: 'pingTimeout' as const }),
    closeForSendq: assign({ closeReason: 'sendqExceeded' as const }),
    closeForFlood: assign({ closeReason: 'excessFlood' as const }),
    closeForReadq: assign({ closeReason: 'readqExceeded' as const }),
    closeForBadPassword: assign({ closeReason: 'badPassword' as const }),
    closeForIpLimit: assign({ closeReason: 'tooManyFromIp' as const }),
    closeForClientEnd: assign({ closeReason: 'clientEnded' as const }),
    closeForClientGone: assign({ closeReason: 'clientGone' as const }),
    closeForShutdown: assign({ closeReason: 'shutdown' as const }),
    closeForRelayEnd: assign({ closeReason: 'relayEnded' as const }),
    closeForRelayLoss: assign({ closeReason: 'relayLost' as const }),
  },
  guards: {
    isOverIpLimit: ({ context }) => context.overIpLimit,
    /** The command table marks the command usable before registration. */
    isUsableBeforeRegistration: ({ event }) => event.type === 'irc.message' && isUsablePreReg(event.message.command),
    /** NICK and USER given, and PASS matches if the server has a password. */
    isReadyToRegister: ({ context }) =>
      context.hasNick && context.hasUser && (!context.passwordRequired || context.passMatches === true),
    /** NICK and USER given, but the server password was not (or wrongly) given. */
    isReadyWithBadPassword: ({ context }) =>
      context.hasNick && context.hasUser && context.passwordRequired && context.passMatches !== true,
  },
  delays: {
    registrationTimeout: ({ context }) => context.limits.registrationTimeoutMs,
    pingInterval: ({ context }) => context.limits.pingIntervalMs,
    pingTimeout: ({ context }) => context.limits.pingTimeoutMs,
    closeTimeout: ({ context }) => context.limits.closeTimeoutMs,
    nickEnforceGrace: ({ context }) => context.limits.nickEnforceGraceMs,
  },
}).createMachine({
  id: 'ircSession',
  description: 'One IRC client, from accept to close.',
  // Field by field rather than `...input`: this runs once per connection, and every later
  // assign copies the context this builds; a spread here costs ~3 % of a registration's CPU.
  context: ({ input }) => ({
    id: input.id,
    remote: input.remote,
    limits: input.limits,
    overIpLimit: input.overIpLimit,
    passwordRequired: input.passwordRequired,
    hasNick: false,
    hasUser: false,
    passMatches: null,
    closeReason: null,
    quitMessage: null,
    socketErrorCode: null,
  }),
  initial: 'open',
  states: {
    open: {
      description: 'The client is connected and may send commands.',
      initial: 'connected',
      on: {
        'irc.quit': { target: 'quitting', actions: 'recordQuit' },
        'irc.killed': { target: 'quitting', actions: 'recordKill' },
        'irc.welcomeFailed': { target: 'quitting', actions: 'recordWelcomeFailure' },
        // Nick ownership: a registered nick held without its account gets nickEnforceGraceMs to
        // log in; the timer restarts when another such nick is taken, stops once it is owned.
        'irc.nickUnowned': { actions: ['cancelNickEnforcement', 'scheduleNickEnforcement'] },
        'irc.nickOwned': { actions: 'cancelNickEnforcement' },
        'timer.nickEnforce': { actions: 'enforceNick' },
        'client.flood': { target: 'quitting', actions: 'closeForFlood' },
        'client.readqExceeded': { target: 'quitting', actions: 'closeForReadq' },
        'client.sendqExceeded': { target: 'quitting', actions: 'closeForSendq' },
        'socket.end': { target: 'quitting', actions: 'closeForClientEnd' },
        'socket.error': { target: 'quitting', actions: ['recordSocketError', 'logSocketError'] },
        'socket.close': { target: 'closed', actions: 'closeForClientGone' },
        'server.shutdown': { target: 'quitting', actions: 'closeForShutdown' },
      },
      states: {
        connected: {
          description:
            'Accepted: the connect notice (the greeting) is written before anything is read. A client over the per-IP limit goes no further.',
          entry: ['logOpened', 'sendConnectNotice'],
          always: [
            { guard: 'isOverIpLimit', target: '#ircSession.quitting', actions: 'closeForIpLimit' },
            { target: 'registering' },
          ],
        },
        registering: {
          description:
            `Reading. Only the commands the table marks usable before registration (${preRegistrationCommands.join(', ')}) run here (others get 451); registration completes once NICK and USER (and a matching PASS, when the server has a password) are in and CAP is not held open. The registration deadline runs from accept.`,
          entry: 'startReading',
          after: {
            registrationTimeout: { target: '#ircSession.quitting', actions: 'closeForRegistrationTimeout' },
          },
          on: {
            'irc.message': [
              { guard: 'isUsableBeforeRegistration', actions: 'runCommand' },
              { actions: 'replyNotRegistered' },
            ],
            'irc.nickSet': { actions: 'recordNick' },
            'irc.userSet': { actions: 'recordUser' },
            'irc.passGiven': { actions: 'recordPass' },
          },
          initial: 'waiting',
          states: {
            waiting: {
              description: 'Waiting for NICK, USER (and PASS); completes as soon as they are in.',
              always: [
                {
                  guard: 'isReadyWithBadPassword',
                  target: '#ircSession.quitting',
                  actions: ['refusePassword', 'closeForBadPassword'],
                },
                { guard: 'isReadyToRegister', target: '#ircSession.open.registered' },
              ],
              on: { 'irc.capHeld': 'negotiating' },
            },
            negotiating: {
              description: 'CAP LS or REQ was sent: registration is held open until CAP END.',
              tags: ['negotiating'],
              on: { 'irc.capEnded': 'waiting' },
            },
          },
        },
        registered: {
          description: 'Welcomed (001-005, LUSERS, MOTD): every command runs. A quiet client is PINGed.',
          tags: ['registered'],
          entry: 'welcome',
          on: { 'irc.relayed': { target: '#ircSession.open.relaying', actions: 'startRelay' } },
          initial: 'active',
          states: {
            active: {
              description: 'The client has spoken within pingIntervalMs.',
              after: { pingInterval: 'pinged' },
              // Any command shows the client is alive: re-enter `active` (its timer restarts).
              on: { 'irc.message': { target: 'active', reenter: true, actions: 'runCommand' } },
            },
            pinged: {
              description: 'Quiet for pingIntervalMs: PING sent; any command it sends within pingTimeoutMs (PONG or another) keeps it.',
              entry: 'sendPing',
              on: { 'irc.message': { target: 'active', actions: 'runCommand' } },
              after: {
                pingTimeout: { target: '#ircSession.quitting', actions: 'closeForPingTimeout' },
              },
            },
          },
        },
        relaying: {
          description:
            "Multiclient across nodes: the account's user lives on another node (its home). The client's bytes go there unread and what the home writes comes back; the home pings it, runs its commands and decides when it closes, so no timer runs here. Not a user of this node, so not tagged registered.",
          on: {
            'relay.ended': { target: '#ircSession.quitting', actions: 'closeForRelayEnd' },
            'relay.lost': { target: '#ircSession.quitting', actions: 'closeForRelayLoss' },
          },
        },
      },
    },
    quitting: {
      description:
        'Leaving: QUIT sent to everyone sharing a channel, `ERROR :Closing link` written and our side ended; waiting for the socket to close.',
      entry: ['depart', 'endSocket'],
      after: { closeTimeout: { actions: 'destroySocket' } },
      on: { 'socket.close': 'closed' },
    },
    closed: {
      description: 'Socket closed; off the network (if it was not already); the actor is done.',
      type: 'final',
      entry: ['depart', 'logClosed'],
    },
  },
});

export type IrcSessionMachine = typeof ircSessionMachine;
