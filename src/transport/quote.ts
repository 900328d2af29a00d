/** POSIX shell quoting for commands sent to hosts: every argument becomes one literal word. */

/** Single-quotes a word; an embedded ' becomes '\'' so nothing inside is ever interpreted. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error('shellQuote: a NUL byte cannot be passed through a shell');
  if (/^[A-Za-z0-9_@%+:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `sh -c '<script>'`, so the remote login shell (bash, zsh, fish…) never parses the script itself. */
export function shCommand(script: string): string {
  return `sh -c ${shellQuote(script)}`;
}
