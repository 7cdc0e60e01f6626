// Pure decisions of the IRCv3 WebSocket transport (https://ircv3.net/specs/extensions/websocket):
// which subprotocol to speak, and whether a browser page from a given Origin may connect. No
// sockets here; src/transports/webServer.ts applies them to real upgrade requests.

/** The two subprotocols of the spec: one IRC line per message, as binary or as text frames. */
export const binarySubprotocol = 'binary.ircv3.net';
export const textSubprotocol = 'text.ircv3.net';
export type IrcSubprotocol = typeof binarySubprotocol | typeof textSubprotocol;

/**
 * The subprotocol to accept from those the client offered (in its order of preference, which
 * the spec says the server must respect): the first one we speak, or null for none, in which
 * case the handshake goes on without one and the client gets text frames (most clients that
 * ask for nothing are browsers' `new WebSocket(url)`).
 */
export function chooseSubprotocol(offered: Iterable<string>): IrcSubprotocol | null {
  for (const protocol of offered) {
    if (protocol === binarySubprotocol || protocol === textSubprotocol) return protocol;
  }
  return null;
}

/** Anything goes: every Origin, and requests with none (non-browser clients). */
export const anyOrigin = '*';

/**
 * `scheme://host[:port]` as browsers send it in Origin (lower case, default port left out), or
 * null when `text` is not an http(s) origin. Used on `--websocket-origin` values and headers.
 */
export function normaliseOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return null;
  return url.origin;
}

export type OriginVerdict = { allowed: true } | { allowed: false; reason: string };

export interface OriginRequest {
  /** The Origin header; undefined when the client sent none. */
  origin: string | undefined;
  /** The Host header: the page served by this port has this origin. */
  host: string | undefined;
  /** Whether the request came over TLS (then our own page's origin is https). */
  secure: boolean;
}

/**
 * Whether a WebSocket handshake may go on. A browser always sends Origin, and a page from
 * another site could otherwise open a chat session in its visitor's name (with the visitor's
 * IP); so a request is allowed when its Origin is the web client's own (the page this port
 * serves: same scheme and the Host the request was sent to), or in `allowed` (the
 * --websocket-origin list, already normalised), or when the list has `*`. A request with no
 * Origin at all is a non-browser client: allowed only with `*`.
 */
export function checkOrigin(request: OriginRequest, allowed: readonly string[] | null): OriginVerdict {
  const list = allowed ?? [];
  if (list.includes(anyOrigin)) return { allowed: true };
  if (request.origin === undefined || request.origin === '') {
    return { allowed: false, reason: 'no Origin header: only browsers on an allowed page may connect (see --websocket-origin)' };
  }
  const origin = normaliseOrigin(request.origin);
  if (origin !== null) {
    const own = request.host ? normaliseOrigin(`${request.secure ? 'https' : 'http'}://${request.host}`) : null;
    if (origin === own || list.includes(origin)) return { allowed: true };
  }
  return { allowed: false, reason: `Origin ${request.origin.slice(0, 200)} is not allowed (see --websocket-origin)` };
}
