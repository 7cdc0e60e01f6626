// SASL registration, for run.ts (`npm run bench:irc -- --only sasl-registration`), issue 22: what
// logging in costs a registration. Ours only: ngircd and InspIRCd have no SASL without services.
// The registration storm of sessionCost.ts (a closed loop, registrationConcurrency attempts at
// once) against a fresh server of ours, in two forms, each with a --data-dir of its own holding
// one account per slot (created as the login storm creates them, loginStorm.ts):
//   plain  connect → NICK/USER → 001 → QUIT → the server's close
//   sasl   connect → CAP LS 302 → CAP REQ :sasl → ACK → AUTHENTICATE PLAIN → + → the payload →
//          903 → NICK/USER → CAP END → 001 → QUIT → the server's close
// The figure is sasl against plain: registrations/s, connect → 001, server CPU per registration
// (a password hash, scrypt on libuv's pool, in the server's process, is most of it).

import { tempDir } from './peers.js';
import { accountPassword, createAccounts } from './loginStorm.js';
import type { IrcBench } from './measure.js';
import type { IrcRegistrationFigures } from './results.js';
import { measureRegistration, registrationConcurrency, type StormSettings } from './sessionCost.js';

export type SaslForm = 'plain' | 'sasl';

/** One account per slot of the storm: load process i's slots log in to accounts of their own. */
export const saslAccounts = registrationConcurrency;

/** One storm of `form` against a fresh server of ours with saslAccounts accounts in its store. */
export async function measureSaslRegistration(h: IrcBench, form: SaslForm, s: StormSettings): Promise<IrcRegistrationFigures> {
  const dir = tempDir(`irc-sasl-registration-${form}-`);
  try {
    await createAccounts(dir.path, saslAccounts);
    let first = 0;
    const session =
      form === 'sasl'
        ? (_i: number, concurrency: number) => {
            const accounts = Array.from({ length: concurrency }, (_, k) => `a${first + k}`);
            first += concurrency;
            return { caps: 'sasl', sasl: { accounts, password: accountPassword } };
          }
        : undefined;
    return await measureRegistration(h, 'ours', s, { peer: { oursArgs: ['--data-dir', dir.path] }, ...(session && { session }) });
  } finally {
    dir.remove();
  }
}
