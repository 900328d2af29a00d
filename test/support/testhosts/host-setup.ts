/**
 * The shell script that turns a fresh mount/UTS/PID namespace into a "machine": its own hostname,
 * copy-on-write views of the system directories, empty kbuild directories, and its users.
 * It runs as the namespace's first process and ends by exec'ing `sleep infinity`, which then
 * holds the namespaces (killing it ends every process of the host).
 */

/**
 * Copy-on-write (overlayfs, upper layer on the host's tmpfs): the host sees this machine's files,
 * and whatever it writes there stays private. Covers paths kbuild may write that we did not list.
 */
export const OVERLAY_DIRS = ['/etc', '/var', '/home', '/root', '/opt', '/usr/local', '/srv'] as const;

/**
 * Empty private tmpfs, as on a machine kbuild has never touched. Each lies inside an overlay, so
 * creating the mount point changes nothing on the real machine. `/tmp` stays shared on purpose:
 * the harness's files (sshd config, host keys) live there.
 */
export const EMPTY_DIRS = [
  '/run',
  '/etc/kubernetes',
  '/var/lib/etcd',
  '/var/lib/kubelet',
  '/etc/haproxy',
  '/etc/keepalived',
  '/etc/systemd/system/kubelet.service.d',
  '/etc/cni/net.d',
  '/var/log/pods',
] as const;

/** Directories that must not be readable by others (etcd refuses a data dir that is). */
const PRIVATE_MODE_DIRS = new Set<string>(['/var/lib/etcd']);

export interface NonRootUser {
  name: string;
  uid: number;
  gid: number;
}

export interface HostSetup {
  hostName: string;
  /** Shared directory (seen by the host too) holding the files copied in below. */
  hostDir: string;
  /** Mount point for the host's private tmpfs (overlay upper layers). */
  privateDir: string;
  /** Files in hostDir: `hosts`, `authorized_keys`, and for a non-root user `sudoers`. */
  nonRootUser?: NonRootUser;
  extraEmptyDirs?: readonly string[];
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function hostSetupScript(setup: HostSetup): string {
  const q = shellQuote;
  const lines = [
    'set -eu',
    `hostname ${q(setup.hostName)}`,
    // The sysfs of this network namespace, so /sys/class/net shows the host's own interfaces.
    'mount -t sysfs sysfs /sys',
    `mount -t tmpfs -o mode=0700 kbuild-testhost ${q(setup.privateDir)}`,
  ];
  for (const dir of OVERLAY_DIRS) {
    const key = dir.replace(/\//g, '_');
    const upper = `${setup.privateDir}/upper${key}`;
    const work = `${setup.privateDir}/work${key}`;
    lines.push(`if [ -d ${q(dir)} ]; then mkdir -p ${q(upper)} ${q(work)}; mount -t overlay overlay -o ${q(`lowerdir=${dir},upperdir=${upper},workdir=${work}`)} ${q(dir)}; fi`);
  }
  for (const dir of [...EMPTY_DIRS, ...(setup.extraEmptyDirs ?? [])]) {
    const mode = PRIVATE_MODE_DIRS.has(dir) ? '0700' : '0755';
    lines.push(`mkdir -p ${q(dir)}`, `mount -t tmpfs -o mode=${mode} kbuild-testhost ${q(dir)}`);
  }
  lines.push(
    'mkdir -p /run/sshd /run/lock && chmod 0755 /run/sshd',
    `cp ${q(`${setup.hostDir}/hosts`)} /etc/hosts`,
    `echo ${q(setup.hostName)} > /etc/hostname`,
    'mkdir -p /root/.ssh && chmod 0700 /root/.ssh',
    `install -m 0600 ${q(`${setup.hostDir}/authorized_keys`)} /root/.ssh/authorized_keys`,
  );
  const user = setup.nonRootUser;
  if (user) {
    const home = `/home/${user.name}`;
    // The overlay keeps these edits inside the host: the machine's /etc/passwd is untouched.
    lines.push(
      `echo ${q(`${user.name}:x:${user.uid}:${user.gid}:kbuild test user:${home}:/bin/bash`)} >> /etc/passwd`,
      `echo ${q(`${user.name}:*:19000:0:99999:7:::`)} >> /etc/shadow`,
      `echo ${q(`${user.name}:x:${user.gid}:`)} >> /etc/group`,
      `mkdir -p ${q(`${home}/.ssh`)}`,
      `install -m 0600 ${q(`${setup.hostDir}/authorized_keys`)} ${q(`${home}/.ssh/authorized_keys`)}`,
      `chown -R ${user.uid}:${user.gid} ${q(home)} && chmod 0700 ${q(home)} ${q(`${home}/.ssh`)}`,
      `install -m 0440 ${q(`${setup.hostDir}/sudoers`)} ${q(`/etc/sudoers.d/${user.name}`)}`,
    );
  }
  lines.push('exec sleep infinity');
  return `${lines.join('\n')}\n`;
}

export function sudoersLine(user: string): string {
  return `${user} ALL=(ALL:ALL) NOPASSWD: ALL\n`;
}

export function sshdConfig(options: { hostDir: string; hostKeyFiles: readonly string[]; port: number }): string {
  return [
    '# kbuild test host sshd (test/support/testhosts)',
    `Port ${options.port}`,
    ...options.hostKeyFiles.map((file) => `HostKey ${file}`),
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // PAM modules (loginuid, systemd) fail inside namespaces; keys are all the tests use.
    'UsePAM no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    `PidFile ${options.hostDir}/sshd.pid`,
    'Subsystem sftp internal-sftp',
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}
