// Waiting on a forked child: its next IPC message that passes a check, or its exit (an error).
// Shared by the benchmark's server and load-generator processes and the soak's server.
import type { ChildProcess } from 'node:child_process';

export function nextMessageFrom<T>(
  child: ChildProcess,
  isMessage: (value: unknown) => value is T,
  accept: (message: T) => boolean,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const childOnMessage = (message: unknown): void => {
      if (!isMessage(message) || !accept(message)) return;
      cleanUp();
      resolve(message);
    };
    const childOnExit = (code: number | null, signal: string | null): void => {
      cleanUp();
      reject(new Error(`${what} exited (code ${code}, signal ${signal})`));
    };
    const cleanUp = (): void => {
      child.off('message', childOnMessage);
      child.off('exit', childOnExit);
    };
    child.on('message', childOnMessage);
    child.on('exit', childOnExit);
  });
}
