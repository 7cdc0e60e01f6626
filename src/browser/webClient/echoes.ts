// Our messages on their way, when the server offers echo-message and labeled-response (with
// batch): each PRIVMSG the user sends carries a label and is shown at once, as sending; the
// server's answer carries the label back, alone or on the labeled-response batch around it.
// The echo settles it as sent (with the echo's msgid and server-time), an error (404 cannot
// send, 401 no such nick...) as not sent, with why; a response that ends with neither leaves it
// sent. incoming.ts applies the answers. Pure: the windows are the caller's (W).

/** Labels of our messages: `msg1`, `msg2`... (typing's are presence.ts's `typing<n>`). */
const echoLabel = 'msg';

/** How an answered message ends: sent (echoed, or answered without an error), or not. */
export type SentResult = { sent: true; msgid?: string; time?: Date } | { sent: false; why: string };

export class Echoes<W> {
  /** Our labeled messages not answered yet: label → the window that shows them. */
  private readonly waiting = new Map<string, W>();
  /** The labeled-response batches open now: reference → label. */
  private readonly batches = new Map<string, string>();
  private count = 0;

  /** A label for a message to send to `w`, waited for from now on. */
  label(w: W): string {
    const label = `${echoLabel}${++this.count}`;
    this.waiting.set(label, w);
    return label;
  }

  /** The window of a message still waiting for its answer, or undefined. */
  windowOf(label: string): W | undefined {
    return this.waiting.get(label);
  }

  /** It is answered: its window, once (undefined after). */
  answered(label: string): W | undefined {
    const w = this.waiting.get(label);
    this.waiting.delete(label);
    return w;
  }

  /** The label a line answers: its own `label` tag, or its labeled-response batch's. */
  labelOf(tags: Readonly<Record<string, string>>): string | undefined {
    if (tags.label !== undefined) return tags.label;
    return tags.batch === undefined ? undefined : this.batches.get(tags.batch);
  }

  batchOpened(ref: string, label: string): void {
    this.batches.set(ref, label);
  }

  /** The label of the batch that ends, if it was a labeled response. */
  batchClosed(ref: string): string | undefined {
    const label = this.batches.get(ref);
    this.batches.delete(ref);
    return label;
  }

  /** The connection is gone: the labels of the messages that got no answer, now forgotten. */
  dropped(): Array<[string, W]> {
    const left = [...this.waiting];
    this.waiting.clear();
    this.batches.clear();
    return left;
  }
}
