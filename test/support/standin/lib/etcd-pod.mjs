// etcd's static pod: the REAL etcd (Debian's, 3.4.x) with exactly the manifest's command. A flag the
// installed etcd does not know is a fatal error, reported by name, never silently dropped.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ProcessPod } from './process-pod.mjs';

export const ETCD_BINARY = '/usr/bin/etcd';

let knownFlags;
let etcdVersion;

function etcdFlags() {
  if (!knownFlags) {
    const help = spawnSync(ETCD_BINARY, ['--help'], { encoding: 'utf8', timeout: 10_000 });
    const text = `${help.stdout}${help.stderr}`;
    knownFlags = new Set([...text.matchAll(/^\s+--([a-z0-9][a-z0-9.-]*)/gm)].map((m) => m[1]));
    if (knownFlags.size < 20) throw new Error(`${ETCD_BINARY} --help listed no flags; is etcd-server installed?`);
    etcdVersion = /etcd Version: (\S+)/.exec(spawnSync(ETCD_BINARY, ['--version'], { encoding: 'utf8', timeout: 10_000 }).stdout)?.[1] ?? 'unknown version';
  }
  return knownFlags;
}

export class FatalPodError extends Error {}

export function etcdPod({ argv, file, logFile, status }) {
  if (argv[0] !== 'etcd' && argv[0] !== ETCD_BINARY) throw new FatalPodError(`${file}: the command starts with ${argv[0]}, not etcd`);
  const known = etcdFlags();
  const unknown = argv.slice(1).filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]).filter((name) => !known.has(name));
  if (unknown.length > 0) throw new FatalPodError(`${file}: ${ETCD_BINARY} ${etcdVersion} does not know the flag(s) ${unknown.map((n) => `--${n}`).join(', ')}; the rendered etcd command cannot run on this etcd`);
  return new ProcessPod({
    name: 'etcd',
    argv: [ETCD_BINARY, ...argv.slice(1)],
    logFile,
    status,
    onExit: () => {
      const tail = readFileSync(logFile, 'utf8').slice(-4096);
      const bad = /flag provided but not defined: (\S+)|unknown flag:? (\S+)/.exec(tail);
      return bad ? `etcd rejected the flag ${bad[1] ?? bad[2]} (${file})` : undefined;
    },
  });
}
