// Reads a V8 CPU profile (.cpuprofile, written by `node --cpu-prof`) of a server under load
// and says where its CPU time went: self time by category (xstate, our code, Node's socket
// code, native bindings, garbage collection), the time with xstate anywhere on the stack, and
// the functions with the most self time. Only samples inside the measured window are counted.
// Pure: profile in, summary out.

/** The profiler's sampling interval (`--cpu-prof-interval`). */
export const profileIntervalUs = 200;

export interface ProfileSummary {
  /** Sampled CPU time (ms), idle excluded. */
  totalMs: number;
  handshakes: number;
  /** Self time by category, ms. */
  categories: Array<{ name: string; ms: number }>;
  /** Time with an xstate frame anywhere on the stack (xstate and what it calls), ms. */
  underXstateMs: number;
  /** The functions with the most self time. */
  top: Array<{ fn: string; where: string; ms: number }>;
}

export interface CpuProfile {
  nodes: Array<{
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

type Frame = CpuProfile['nodes'][number]['callFrame'];

const isXstate = (url: string): boolean => url.includes('/node_modules/xstate/');

/** The category a frame's self time belongs to, or null for idle time. */
function categoryOf(frame: Frame): string | null {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return null;
  if (fn === '(garbage collector)') return 'V8 garbage collector';
  if (fn === '(program)' || fn === '(root)') return 'V8 and native, unattributed (program)';
  if (isXstate(url)) return 'xstate';
  if (url.includes('/dist/src/')) return 'our code (src/)';
  if (url.includes('/dist/bench/')) return 'benchmark harness (IPC)';
  if (url.startsWith('node:')) {
    if (/^node:(net|stream|internal\/(net|stream_base_commons|streams\/))/.test(url)) return 'Node sockets and streams (node:net)';
    if (/^node:internal\/timers|^node:timers/.test(url)) return 'Node timers';
    return 'Node, other (events, ticks, ...)';
  }
  if (url === '') return 'native bindings (syscalls via libuv)';
  return 'other JavaScript';
}

function shortUrl(url: string): string {
  if (url === '') return 'native';
  const m = /\/(node_modules\/[^/]+)\/.*?([^/]+)$/.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  const d = /\/dist\/(.*)$/.exec(url);
  if (d) return d[1]!;
  return url;
}

export function summariseProfile(
  profile: CpuProfile,
  window: { startUs: number; endUs: number; handshakes: number },
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Whether a node has an xstate frame on its stack (itself or an ancestor), memoised.
  const underXstate = new Map<number, boolean>();
  const hasXstate = (id: number): boolean => {
    const known = underXstate.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const p = parent.get(id);
    const value = node !== undefined && (isXstate(node.callFrame.url) || (p !== undefined && hasXstate(p)));
    underXstate.set(id, value);
    return value;
  };

  // Sample i happened at startTime + the sum of the first i + 1 deltas; it stands for the time
  // until the next sample.
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let inWindow = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < window.startUs || t > window.endUs) continue;
    inWindow += 1;
    const next = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + next);
  }
  // A clock mismatch would leave the window empty: count the whole profile instead.
  if (inWindow === 0) {
    t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i += 1) {
      const id = profile.samples[i]!;
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
  }

  const categories = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; us: number }>();
  let totalUs = 0;
  let xstateUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const category = categoryOf(node.callFrame);
    if (category === null) continue;
    totalUs += us;
    categories.set(category, (categories.get(category) ?? 0) + us);
    if (hasXstate(id)) xstateUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url === '' ? 'native' : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${functionName}@${where}`;
    const f = functions.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    functions.set(key, f);
  }
  return {
    totalMs: totalUs / 1000,
    handshakes: window.handshakes,
    categories: [...categories]
      .map(([name, us]) => ({ name, ms: us / 1000 }))
      .sort((a, b) => b.ms - a.ms),
    underXstateMs: xstateUs / 1000,
    top: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 12)
      .map((f) => ({ fn: f.fn, where: f.where, ms: f.us / 1000 })),
  };
}
