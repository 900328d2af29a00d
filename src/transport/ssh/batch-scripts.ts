/**
 * Scripts that handle many files in one exec channel, so a push costs one SSH round trip (and one
 * login-shell start on the host) per batch instead of two per file.
 *
 * sync: the script (the `sh -c` argument) lists the files; stdin carries, for each in the same order,
 * its SHA-256 on a line of its own and then its bytes, raw. Hashes stay off the command line, which ps
 * shows every user of the host: the hash of a file with a short secret in it (keepalived.conf's
 * password) is enough to guess the secret offline. For each file the script compares the existing SHA-256 and mode and either
 * skips its bytes or streams them into a temp file in the target's directory
 * (`.NAME.kbuild-RANDOM`, created 0600 by umask), fsyncs and checks it against the expected
 * SHA-256, then chown, chmod and rename — the same atomic write as writeScript, file by file. A
 * connection cut mid-stream gives dd an early EOF (or the shell a HUP/PIPE): the hash check fails
 * or the trap fires, the temp file is removed and the target keeps its old content. A session that
 * dies unseen (the link drops) keeps its temp file until the host notices; the next sync removes
 * such leftovers beside each target once they have been idle for a minute.
 *
 * Reading exactly SIZE bytes from a pipe relies on GNU dd with iflag=fullblock, which never asks
 * for more than the block still missing (coreutils, as the other scripts' sha256sum and stat -c).
 */
import { dirname, posix } from 'node:path';
import { sha256Hex } from '../../util/sha256.js';
import { shellQuote } from '../quote.js';
import type { FileInfo, SyncFile } from '../transport.js';
import { tempPathBeside } from '../../util/atomic-write.js';

/**
 * The login shell gets `sh -c '<script>'` as one argument, and Linux caps one argument at 128 KiB;
 * sizes are counted after quoting.
 */
export const MAX_SCRIPT_BYTES = 96 * 1024;
const quotedLength = (text: string): number => shellQuote(text).length;

export type SyncStatus = 'unchanged' | 'created' | 'replaced' | 'updated';

function absolute(path: string): string {
  if (!posix.isAbsolute(path)) throw new Error(`remote paths must be absolute, got "${path}"`);
  return posix.normalize(path);
}

const SYNC_PRELUDE = [
  't=',
  'w=',
  `trap '[ -z "$t" ] || rm -f -- "$t"' EXIT`,
  `trap 'exit 1' HUP INT TERM PIPE`,
  'umask 077',
  `fail() { printf 'kbuild: %s\\n' "$2" >&2; exit "$1"; }`,
  // f INDEX PATH MODE OWNER SIZE TEMP: one file; its SHA-256 line and then its SIZE bytes are next on stdin.
  'f() {',
  // sh's read takes one line from a pipe byte by byte, leaving the bytes after it for head or dd.
  '  IFS= read -r e || fail 75 "input ended before $2"',
  '  d=${2%/*}; d=${d:-/}',
  // Temp files of an earlier run whose session died without its trap firing (a network partition): gone after a minute idle.
  '  [ ! -d "$d" ] || find "$d" -maxdepth 1 -name ".${2##*/}.kbuild-*" ! -name "${6##*/}" -mmin +1 -exec rm -f -- {} + 2>/dev/null || :',
  '  s=created; o=',
  '  if [ -f "$2" ]; then',
  '    h=$(sha256sum < "$2") || fail 1 "cannot read $2"',
  '    o=${h%% *}',
  '    if [ "$o" != "$e" ]; then s=replaced',
  '    elif [ "$(stat -c %a -- "$2")" != "$3" ]; then s=updated',
  '    else s=unchanged; fi',
  '  elif [ -e "$2" ] || [ -L "$2" ]; then s=updated',
  '  fi',
  '  if [ $s = unchanged ]; then',
  '    [ "$5" -eq 0 ] || head -c "$5" > /dev/null || fail 1 "input ended early while skipping $2"',
  '    echo "$1 $s"; return 0',
  '  fi',
  '  [ -d "$d" ] || mkdir -p -- "$d" || fail 1 "cannot create directory $d"',
  '  t=$6',
  '  if [ "$5" -eq 0 ]; then : > "$t" || fail 1 "cannot write $2"',
  '  else dd of="$t" bs="$5" count=1 iflag=fullblock conv=fsync status=none || fail 1 "cannot write $2"; fi',
  '  h=$(sha256sum < "$t") || fail 1 "cannot read back $t"',
  `  [ "\${h%% *}" = "$e" ] || fail 75 "$2: content arrived incomplete; the target file was left unchanged"`,
  '  chown -- "$4" "$t" || fail 1 "cannot set owner $4 on $2"',
  '  chmod -- "$3" "$t" || fail 1 "cannot set mode $3 on $2"',
  // -T: a directory in the target's place is an error, not a place to move the file into.
  '  mv -f -T -- "$t" "$2" || fail 1 "cannot replace $2"',
  '  t=; w=1',
  // A replaced file reports the hash it had, so drift can be told from an update.
  '  if [ $s = replaced ]; then echo "$1 $s $o"; else echo "$1 $s"; fi',
  '}',
];

/** One `f …` line; the temp name follows writeScript's, so a leftover is recognisable. */
function syncLine(index: number, file: SyncFile, content: Buffer, tempSuffix: string): string {
  const target = absolute(file.path);
  const temp = tempPathBeside(target, tempSuffix);
  return ['f', index, shellQuote(target), file.mode.toString(8), shellQuote(file.owner ?? 'root:root'), content.length, shellQuote(temp)].join(' ');
}

export interface SyncBatch {
  script: string;
  /** Per file in the script's order: its SHA-256 line, then its bytes. */
  stdin: Buffer;
  files: readonly SyncFile[];
}

/**
 * The scripts (usually one) for a list of files, each under MAX_SCRIPT_BYTES; `tempSuffix` gives
 * each file's random temp-name suffix.
 */
export function syncBatches(files: readonly SyncFile[], tempSuffix: () => string): SyncBatch[] {
  const batches: SyncBatch[] = [];
  const prelude = SYNC_PRELUDE.join('\n');
  let lines: string[] = [];
  let chunk: SyncFile[] = [];
  let contents: Buffer[] = [];
  let size = quotedLength(prelude);
  const flush = (): void => {
    if (chunk.length === 0) return;
    const dirs = [...new Set(chunk.map((f) => dirname(absolute(f.path))))].map(shellQuote).join(' ');
    // Make the renames durable: `sync DIR…` fsyncs the directories (coreutils >= 8.24).
    const script = [prelude, ...lines, `[ -z "$w" ] || sync -- ${dirs} 2>/dev/null || true`].join('\n');
    batches.push({ script, stdin: Buffer.concat(contents), files: chunk });
    [lines, chunk, contents, size] = [[], [], [], quotedLength(prelude)];
  };
  for (const file of files) {
    const content = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
    const suffix = tempSuffix();
    // The closing sync line may name the file's directory once more.
    const cost = (line: string): number => quotedLength(line) + quotedLength(shellQuote(dirname(absolute(file.path)))) + 2;
    let line = syncLine(chunk.length, file, content, suffix);
    if (chunk.length > 0 && size + cost(line) > MAX_SCRIPT_BYTES) {
      flush();
      line = syncLine(0, file, content, suffix);
    }
    if (size + cost(line) > MAX_SCRIPT_BYTES) throw new Error(`path too long for a remote script: ${file.path.slice(0, 200)}`);
    lines.push(line);
    chunk.push(file);
    contents.push(Buffer.from(`${sha256Hex(content)}\n`), content);
    size += cost(line);
  }
  flush();
  return batches;
}

/** The status of each file the script finished, in order (`INDEX STATUS` lines). */
export function parseSyncOutput(stdout: string): SyncStatus[] {
  return parseSyncLines(stdout).map((l) => l.status);
}

/** Each file's status and, for a replaced file, the SHA-256 its old content had. */
export function parseSyncLines(stdout: string): Array<{ status: SyncStatus; previous?: string }> {
  const lines: Array<{ status: SyncStatus; previous?: string }> = [];
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const match = /^(\d+) (unchanged|created|updated|replaced)(?: ([0-9a-f]{64}))?$/.exec(line);
    if (!match || Number(match[1]) !== lines.length || (match[3] !== undefined) !== (match[2] === 'replaced')) {
      throw new Error(`unexpected sync output: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    lines.push({ status: match[2] as SyncStatus, ...(match[3] ? { previous: match[3] } : {}) });
  }
  return lines;
}

/** One line per path: `missing`, or `<hex mode> <size> <uid> <gid> <sha256 of a regular file>`. */
export function statFilesScript(paths: readonly string[]): string {
  return [
    's() {',
    '  if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo missing; return 0; fi',
    `  m=$(stat -c '%f %s %u %g' -- "$1") || exit 1`,
    '  h=',
    '  if [ -f "$1" ]; then h=$(sha256sum < "$1") || exit 1; h=${h%% *}; fi',
    '  echo "$m $h"',
    '}',
    ...paths.map((p) => `s ${shellQuote(absolute(p))}`),
  ].join('\n');
}

export function parseStatFilesOutput(stdout: string, count: number): Array<FileInfo | undefined> {
  const lines = stdout.split('\n').slice(0, count);
  if (lines.length !== count) throw new Error(`unexpected stat output: ${JSON.stringify(stdout.slice(0, 200))}`);
  return lines.map((line) => {
    if (line === 'missing') return undefined;
    const fields = line.split(' ');
    if (fields.length !== 5) throw new Error(`unexpected stat output: ${JSON.stringify(line.slice(0, 200))}`);
    const [rawMode, size, uid, gid, sha256] = fields as [string, string, string, string, string];
    return { mode: parseInt(rawMode, 16) & 0o7777, size: Number(size), uid: Number(uid), gid: Number(gid), sha256 };
  });
}

/** Batches of paths whose stat script stays under MAX_SCRIPT_BYTES. */
export function statBatches(paths: readonly string[]): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let size = quotedLength(statFilesScript([]));
  for (const path of paths) {
    const cost = quotedLength(`s ${shellQuote(path)}`) + 1;
    if (current.length > 0 && size + cost > MAX_SCRIPT_BYTES) {
      batches.push(current);
      [current, size] = [[], quotedLength(statFilesScript([]))];
    }
    current.push(path);
    size += cost;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
