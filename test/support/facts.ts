/**
 * What preflight's facts command (src/preflight/facts.ts) prints on a healthy host, section by
 * section, for tests that need a host's answer without a host: `factsOutput({ resolved: … })`
 * replaces sections. Every section the command prints is here, the last one (route6) included.
 */
import type { Transport } from '../../src/transport/transport.js';

export const HEALTHY_SECTIONS: Readonly<Record<string, string>> = {
  uid: '0',
  hostname: 'node1',
  epoch: '1763700000',
  binaries: 'kubelet\nconntrack\nip\niptables\nmount\nnsenter\ncurl',
  paths: '/var/run/containerd/containerd.sock',
  swaps: 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority',
  ip_forward: '1',
  ipv6_forwarding: '0',
  listen: '',
  addr: '[]',
  route4: '[]',
  // systemd, systemd-resolved not running; none of the optional CA directories.
  resolved: 'systemd\ninactive',
  ca_dirs: '',
  route6: '[]',
};

export const factsOutput = (overrides: Record<string, string> = {}): string =>
  Object.entries({ ...HEALTHY_SECTIONS, ...overrides })
    .map(([k, v]) => `@@kbuild:${k}\n${v}`)
    .join('\n');

/** preflight's facts command (it starts with the uid section's marker). */
export const isFactsCommand = (command: string): boolean => command.startsWith("echo '@@kbuild:uid'");

/**
 * `machine` answering the facts command with `output` (counted in `asked`), everything else as it
 * would: for a DirectoryTransport standing in for an empty machine, whose commands print nothing.
 */
export function answeringFacts<T extends Transport>(machine: T, output: string): { transport: Transport; asked: () => number } {
  let asked = 0;
  const transport: Transport = {
    name: machine.name,
    run: (command, options) => (isFactsCommand(command) ? (asked++, Promise.resolve({ code: 0, stdout: output, stderr: '' })) : machine.run(command, options)),
    readFile: (path) => machine.readFile(path),
    stat: (path) => machine.stat(path),
    writeFile: (path, content, options) => machine.writeFile(path, content, options),
    remove: (path) => machine.remove(path),
    close: () => machine.close(),
  };
  return { transport, asked: () => asked };
}
