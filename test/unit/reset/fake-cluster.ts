/**
 * Scripted hosts for reset tests: FakeTransports whose commands act on a simulated etcd cluster
 * and a simulated kubelet, with every rendered file of the cluster in place.
 */
import { FakeTransport } from '../../support/fake-transport.js';
import type { FileInfo } from '../../../src/transport/transport.js';
import type { Cluster, Host } from '../../../src/config/model.js';
import { etcdPod } from '../../../src/render/etcd.js';
import { yamlFile } from '../../../src/render/yaml.js';

export interface SimMember {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  /** Where it serves the HTTP API kbuild talks to (--listen-client-http-urls); not in etcd's member list. */
  apiURL: string;
}

/** An etcd cluster that the curl commands of every fake host talk to. */
export class SimEtcd {
  members: SimMember[];
  /** API URLs that do not answer. */
  readonly down = new Set<string>();
  /** "<host> asked <endpoint> to remove <name>", in order. */
  readonly removals: string[] = [];

  constructor(hosts: readonly Host[]) {
    this.members = hosts.map((h, i) => ({ ID: String(10_000_000_000_000_000_000n + BigInt(i)), name: h.name, peerURLs: [`https://${h.address}:2380`], clientURLs: [`https://${h.address}:2379`], apiURL: `https://${h.address}:2382` }));
  }

  /** The API URL of a host's loopback endpoint maps to that host's member. */
  answer(asker: Host, command: string): { code: number; stdout: string; stderr: string } {
    const url = /(https:\/\/[^/' ]+)\/(v3\/cluster\/member\/(list|remove)|health)/.exec(command);
    if (!url) throw new Error(`unexpected etcd command ${command}`);
    const endpoint = url[1]!.replace('127.0.0.1', asker.address);
    const serving = this.members.find((m) => m.apiURL === endpoint);
    if (!serving || this.down.has(endpoint)) return { code: 7, stdout: '', stderr: `curl: (7) Failed to connect to ${endpoint}` };
    if (url[3] === 'list') return { code: 0, stdout: JSON.stringify({ header: { member_id: serving.ID }, members: this.members.map(({ apiURL: _, ...m }) => m) }), stderr: '' };
    if (url[2] === 'health') return { code: 0, stdout: '{"health":"true","reason":""}', stderr: '' };
    const id = /\\?"ID\\?":\\?"(\d+)\\?"/.exec(command)?.[1];
    const target = this.members.find((m) => m.ID === id);
    if (!target) return { code: 22, stdout: '{"error":"etcdserver: member not found","code":5}', stderr: '' };
    this.removals.push(`${asker.name} asked ${endpoint} to remove ${target.name}`);
    this.members = this.members.filter((m) => m !== target);
    return { code: 0, stdout: '{}', stderr: '' };
  }
}

/** A FakeTransport whose stat() also sees directories (any file beneath the path). */
export class FakeHost extends FakeTransport {
  kubeletActive = true;
  readonly active = new Set<string>();

  override async stat(path: string): Promise<FileInfo | undefined> {
    const file = await super.stat(path);
    if (file) return file;
    return this.isDirectory(path) ? { mode: 0o755, size: 0, uid: 0, gid: 0, sha256: '' } : undefined;
  }

  isDirectory(path: string): boolean {
    const prefix = `${path.replace(/\/+$/, '')}/`;
    return [...this.files.keys()].some((k) => k.startsWith(prefix));
  }
}

export function fakeHost(host: Host, files: Record<string, string>, etcd: SimEtcd): FakeHost {
  const fake: FakeHost = new FakeHost(host.name, {
    files,
    rules: [
      {
        // existingPaths(): the catalogue paths are plain words, so no shell unquoting is needed.
        match: /^for p in (.*); do if /,
        result: (command) => {
          const paths = /^for p in (.*?); do/.exec(command)![1]!.split(' ');
          return { stdout: paths.filter((p) => fake.files.has(p) || fake.isDirectory(p)).map((p) => `${p}\n`).join('') };
        },
      },
      { match: 'hostname', result: { stdout: `${host.name}\n` } },
      {
        // hasEntries(): the first entry, if any (the directories asked about are plain words, unquoted).
        match: /^find \S+ -mindepth 1 -maxdepth 1 -print -quit$/,
        result: (command) => {
          const dir = command.split(' ')[1]!;
          const first = [...fake.files.keys()].find((k) => k.startsWith(`${dir}/`));
          return first === undefined ? { code: 1, stderr: `find: '${dir}': No such file or directory` } : { stdout: `${dir}/${first.slice(dir.length + 1).split('/')[0]!}\n` };
        },
      },
      {
        // removeEntriesCommand(): every entry of the directory, whatever its name.
        match: /^find \S+ -mindepth 1 -maxdepth 1 -exec rm -rf -- \{\} \+$/,
        result: (command) => {
          const dir = command.split(' ')[1]!;
          for (const key of [...fake.files.keys()]) if (key.startsWith(`${dir}/`)) fake.files.delete(key);
          return {};
        },
      },
      { match: /^systemctl is-active (\S+)$/, result: (c) => ((c.endsWith('kubelet') ? fake.kubeletActive : fake.active.has(c.split(' ')[2]!)) ? { stdout: 'active\n' } : { code: 3, stdout: 'inactive\n' }) },
      { match: 'systemctl stop kubelet', result: () => ((fake.kubeletActive = false), {}) },
      { match: /^systemctl stop (haproxy|keepalived)$/, result: (c) => (fake.active.delete(c.split(' ')[2]!), {}) },
      { match: 'systemctl daemon-reload', result: {} },
      { match: /command -v crictl/, result: { code: 127 } },
      { match: /^curl /, result: (c) => etcd.answer(host, c) },
    ],
  });
  return fake;
}

/** Every file a host gets, as `apply` leaves it, plus etcd data on members. */
export function hostFiles(cluster: Cluster, host: Host, rendered: ReadonlyMap<string, ReadonlyArray<{ path: string; content: string | Buffer }>>): Record<string, string> {
  const files: Record<string, string> = Object.fromEntries((rendered.get(host.name) ?? []).map((f) => [f.path, f.content.toString()]));
  if (cluster.etcdMembers.some((m) => m.name === host.name)) {
    files['/etc/kubernetes/manifests/etcd.yaml'] = yamlFile('test', [etcdPod(cluster, host)]);
    files[`${cluster.etcd.dataDir}/member/snap/db`] = 'data';
    files[`${cluster.etcd.dataDir}/member/wal/0.wal`] = 'wal';
  }
  return files;
}
