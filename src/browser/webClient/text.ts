// How text from the network is shown: IRC formatting dropped, other control characters made
// visible, a colour per nick, a time as hh:mm. Pure; the page puts the results in textContent.

// Bold, colour (mIRC \x03 and hex \x04 with their arguments), italics, underline, reverse,
// monospace, strike and reset.
const formatting = /\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g;
const controls = /[\x00-\x1f\x7f]/g;

/**
 * Drops IRC formatting and shows every other control character as its visible symbol
 * (U+2400 and on, U+2421 for DEL), so a tab, a bell or an escape sequence cannot act on the page.
 */
export function clean(text: string): string {
  return text.replace(formatting, '').replace(controls, (c) => {
    const code = c.charCodeAt(0);
    return String.fromCharCode(code === 0x7f ? 0x2421 : 0x2400 + code);
  });
}

/** One of 8 colour classes (`c0`...`c7`), the same for a nick however it is cased. */
export function colourOf(nick: string, fold: (name: string) => string): string {
  let h = 0;
  const f = fold(nick);
  for (let i = 0; i < f.length; i++) h = (h * 31 + f.charCodeAt(i)) | 0;
  return 'c' + (Math.abs(h) % 8);
}

/** The local time as hh:mm. */
export function hhmm(d: Date): string {
  return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
}
