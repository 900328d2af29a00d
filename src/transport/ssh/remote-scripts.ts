/**
 * The shell scripts the SSH transport runs for file operations. They need only POSIX sh and
 * coreutils (no SFTP), so they work unchanged through `sudo -n sh -c`.
 */
import { sha256Hex } from '../../util/sha256.js';
import { basename, dirname, posix } from 'node:path';
import { shellQuote } from '../quote.js';
import { tempPathBeside } from '../../util/atomic-write.js';

/** Exit code the read script uses for "no such file", distinct from cat's own failures. */
export const MISSING_EXIT_CODE = 44;

function absolute(path: string): string {
  if (!posix.isAbsolute(path)) throw new Error(`remote paths must be absolute, got "${path}"`);
  return posix.normalize(path);
}

/**
 * Atomic write: the expected SHA-256 and then the content arrive on stdin (writeStdin), the content
 * into a temp file in the target's directory (created 0600 by umask), fsynced and checked against the
 * hash before chmod/chown/rename. A connection cut mid-stream gives dd an early EOF; the hash check
 * then fails, the temp file is removed and the target keeps its old content. The hash is not on the
 * command line: ps shows that to every user of the host, and the hash of a file holding a short
 * secret (keepalived.conf's password) is enough to guess it offline.
 */
export function writeScript(path: string, mode: number, owner: string, tempSuffix: string): string {
  const target = absolute(path);
  const dir = dirname(target);
  const temp = tempPathBeside(target, tempSuffix);
  return [
    'set -e',
    `t=${shellQuote(temp)}`,
    `trap 'rm -f -- "$t"' EXIT`,
    `trap 'exit 1' HUP INT TERM PIPE`,
    `mkdir -p -- ${shellQuote(dir)}`,
    // Leftovers of a session that died unseen (see batch-scripts.ts), idle for a minute.
    `find ${shellQuote(dir)} -maxdepth 1 -name ${shellQuote(basename(tempPathBeside(target, '*')))} ! -name ${shellQuote(basename(temp))} -mmin +1 -exec rm -f -- {} + 2>/dev/null || :`,
    'umask 077',
    // sh's read takes one line from a pipe byte by byte, leaving the content for dd.
    `IFS= read -r e || { echo 'kbuild: input ended before the content' >&2; exit 75; }`,
    'dd of="$t" bs=65536 conv=fsync status=none',
    `if [ "$(sha256sum < "$t" | cut -d ' ' -f 1)" != "$e" ]; then echo 'kbuild: content arrived incomplete; the target file was left unchanged' >&2; exit 75; fi`,
    `chmod ${mode.toString(8).padStart(4, '0')} -- "$t"`,
    `chown ${shellQuote(owner)} -- "$t"`,
    `mv -f -- "$t" ${shellQuote(target)}`,
    // Make the rename durable; `sync DIR` fsyncs the directory (coreutils >= 8.24).
    `sync -- ${shellQuote(dir)} 2>/dev/null || true`,
  ].join('\n');
}

/** writeScript's stdin: the content's SHA-256 on a line of its own, then the content. */
export function writeStdin(content: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${sha256Hex(content)}\n`), content]);
}

/** Prints `<hex mode> <size> <uid> <gid>` and, for regular files, the SHA-256; `missing` when absent. */
export function statScript(path: string): string {
  const p = shellQuote(absolute(path));
  return [
    `if [ ! -e ${p} ] && [ ! -L ${p} ]; then echo missing; exit 0; fi`,
    `stat -c '%f %s %u %g' -- ${p}`,
    `if [ -f ${p} ]; then sha256sum < ${p} | cut -d ' ' -f 1; fi`,
  ].join('\n');
}

export interface ParsedStat {
  mode: number;
  size: number;
  uid: number;
  gid: number;
  sha256: string;
}

export function parseStatOutput(stdout: string): ParsedStat | undefined {
  const lines = stdout.trim().split('\n');
  if (lines[0] === 'missing') return undefined;
  const fields = lines[0]?.split(' ') ?? [];
  if (fields.length !== 4) throw new Error(`unexpected stat output: ${JSON.stringify(stdout.slice(0, 200))}`);
  const [rawMode, size, uid, gid] = fields as [string, string, string, string];
  return {
    mode: parseInt(rawMode, 16) & 0o7777,
    size: Number(size),
    uid: Number(uid),
    gid: Number(gid),
    sha256: lines[1]?.trim() ?? '',
  };
}

export function readScript(path: string): string {
  const p = shellQuote(absolute(path));
  return `if [ ! -e ${p} ]; then exit ${MISSING_EXIT_CODE}; fi\nexec cat -- ${p}`;
}

export function removeScript(path: string): string {
  const target = absolute(path);
  if (target === '/') throw new Error('refusing to remove /');
  return `rm -rf -- ${shellQuote(target)}`;
}
