#!/usr/bin/env node
// Installs the system tools the tests need (Debian packages) when any is missing.
// `npm test` calls this before vitest; CI is a fresh Debian 12 machine, as root.
// Fast path: only PATH look-ups, no subprocess, so it is a no-op in well under a second.
import { fileURLToPath } from 'node:url';
import { ensureDebianTools } from './lib/debian-tools.mjs';

/** Tool → Debian package that ships it; `null` means it must already be on the machine. */
/** @type {Record<string, string | null>} */
const TOOLS = {
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'ssh-agent': 'openssh-client',
  haproxy: 'haproxy',
  keepalived: 'keepalived',
  // The test hosts' container runtime and pod network plugins (Kubernetes itself: ensure-kube-lab.mjs).
  containerd: 'containerd',
  ctr: 'containerd',
  runc: 'runc',
  '/usr/lib/cni/bridge': 'containernetworking-plugins',
  '/lib/systemd/systemd': 'systemd',
  dig: 'dnsutils',
  // The lab's test-pod image (a shell and network tools in one static binary).
  '/bin/busybox': 'busybox-static',
  openssl: 'openssl',
  ip: 'iproute2',
  sudo: 'sudo',
  curl: 'curl',
  // kbuild's preflight requires these on every kubelet host, test hosts included.
  conntrack: 'conntrack',
  iptables: 'iptables',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  flock: 'util-linux',
  setpriv: 'util-linux',
  ldd: 'libc-bin',
};

ensureDebianTools({
  prefix: 'ensure-system-deps:',
  script: fileURLToPath(import.meta.url),
  tools: TOOLS,
  // A package's maintainer script may start these; none may keep a default port busy.
  daemons: ['haproxy', 'sshd', 'keepalived', 'containerd'],
  noRecommends: true,
  present: `all ${Object.keys(TOOLS).length} system tools present, nothing to do`,
});
