/**
 * The shell script that turns fresh mount/UTS/PID/cgroup namespaces into a "machine": its own
 * hostname, cgroup subtree, /dev, copy-on-write views of the system directories, empty kbuild
 * directories and its users. It runs as the namespaces' first process and ends by exec'ing the real
 * systemd as the host's PID 1 (killing it ends every process of the host), so services start from
 * their unit files and drop-ins exactly as on a machine.
 */
import { cgroupMountLines, type CgroupHierarchy } from './cgroups.js';

/**
 * Copy-on-write (overlayfs, upper layer on the host's tmpfs): the host sees this machine's files,
 * and whatever it writes there stays private. Covers paths kbuild may write that we did not list.
 */
export const OVERLAY_DIRS = ['/etc', '/var', '/usr', '/home', '/opt', '/usr/local', '/srv'] as const;

/**
 * Empty private tmpfs, as on a machine kbuild has never touched. Each lies inside an overlay, so
 * creating the mount point changes nothing on the real machine. `/tmp` stays shared on purpose:
 * the harness's files (sshd config, host keys) live there.
 */
export const EMPTY_DIRS = [
  '/run',
  // root's home as a fresh Debian machine has it (base-files' dot files, below), not this machine's:
  // its .bashrc (pyenv, …) runs for every command kbuild sends over ssh.
  '/root',
  '/etc/kubernetes',
  '/var/lib/etcd',
  '/var/lib/kubelet',
  // containerd's overlayfs snapshots need a real filesystem below them, not an overlay.
  '/var/lib/containerd',
  '/etc/haproxy',
  '/etc/keepalived',
  '/etc/systemd/system/kubelet.service.d',
  '/etc/cni/net.d',
  '/var/log/pods',
  '/var/log/containers',
] as const;

/** Device nodes a host gets in its private /dev (bind mounts of this machine's). */
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty', 'kmsg'] as const;

/**
 * Services the lab runs in hosts, never masked. Everything else the machine's boot targets pull in is
 * masked inside the host, because a systemd there would act on the whole machine: tmpfiles would
 * empty the shared /tmp, udev retrigger its devices, sysctl and modules-load change its kernel,
 * timesyncd set its clock.
 */
export const HOST_SERVICES = ['containerd.service', 'haproxy.service', 'keepalived.service', 'kubelet.service'] as const;
const ALWAYS_MASKED = [
  'systemd-tmpfiles-setup.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-setup-dev-early.service',
  'systemd-tmpfiles-clean.service',
  'systemd-tmpfiles-clean.timer',
  'systemd-udevd.service',
  'systemd-udevd-control.socket',
  'systemd-udevd-kernel.socket',
  'systemd-udev-trigger.service',
  'systemd-udev-settle.service',
  'systemd-sysctl.service',
  'systemd-modules-load.service',
  'systemd-binfmt.service',
  'proc-sys-fs-binfmt_misc.automount',
  'proc-sys-fs-binfmt_misc.mount',
  'systemd-timesyncd.service',
  'systemd-random-seed.service',
  'systemd-remount-fs.service',
  'systemd-logind.service',
  'systemd-journald-audit.socket',
  'getty@.service',
  'serial-getty@.service',
  'console-getty.service',
  'ssh.service',
  'ssh.socket',
  'etcd.service',
] as const;
const BOOT_TARGET_WANTS = ['sysinit', 'basic', 'sockets', 'timers', 'paths', 'local-fs', 'multi-user', 'getty', 'graphical'] as const;
const JOURNAL_UNITS = ['systemd-journald.service', 'systemd-journald.socket', 'systemd-journald-dev-log.socket', 'systemd-journal-flush.service'] as const;
/** The unit the host boots into: the journal and nothing else until kbuild or a test starts a service. */
export const HOST_TARGET = 'kbuild-testhost.target';

/** Directories that must not be readable by others (etcd refuses a data dir that is). */
const PRIVATE_MODE_DIRS = new Set<string>(['/var/lib/etcd', '/root']);

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
  /** This machine's cgroup hierarchies, mounted again inside the host's cgroup namespace. */
  cgroups: readonly CgroupHierarchy[];
  /** 32 hex digits: each host is its own machine to systemd and the kubelet. */
  machineId: string;
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function hostSetupScript(setup: HostSetup): string {
  const q = shellQuote;
  const lines = [
    'set -eu',
    `hostname ${q(setup.hostName)}`,
    // This network namespace's sysfs (the host's own /sys/class/net), read-only: nothing in the host
    // may write to the machine's devices. The cgroup hierarchies below it stay writable.
    'mount -t sysfs -o ro sysfs /sys',
    ...cgroupMountLines(setup.cgroups),
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
  // A private /dev, as a container has: what the host's daemons create there (the journal's
  // /dev/log) stays in the host.
  const dev = `${setup.privateDir}/dev`;
  lines.push(`mkdir -p ${q(dev)}`, `mount -t tmpfs -o mode=0755,nosuid kbuild-testhost-dev ${q(dev)}`);
  for (const node of DEVICES) lines.push(`touch ${q(`${dev}/${node}`)}`, `mount --bind /dev/${node} ${q(`${dev}/${node}`)}`);
  lines.push(
    `mkdir -p ${q(`${dev}/pts`)} ${q(`${dev}/shm`)}`,
    `mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts ${q(`${dev}/pts`)}`,
    `mount -t tmpfs -o mode=1777,nosuid,nodev shm ${q(`${dev}/shm`)}`,
    `ln -s pts/ptmx ${q(`${dev}/ptmx`)}`,
    `ln -s /proc/self/fd ${q(`${dev}/fd`)}`,
    ...['stdin', 'stdout', 'stderr'].map((name, fd) => `ln -s /proc/self/fd/${fd} ${q(`${dev}/${name}`)}`),
    `mount --move ${q(dev)} /dev`,
    // Mounts made in the host (the kubelet's, runc's) propagate within it, as on a systemd machine.
    'mount --make-rshared /',
  );
  lines.push(
    'mkdir -p /run/sshd /run/lock && chmod 0755 /run/sshd',
    `cp ${q(`${setup.hostDir}/hosts`)} /etc/hosts`,
    `echo ${q(setup.hostName)} > /etc/hostname`,
    `echo ${q(setup.machineId)} > /etc/machine-id`,
    ': > /etc/fstab',
    'for dot in bashrc profile; do [ -f /usr/share/base-files/dot.$dot ] && cp /usr/share/base-files/dot.$dot /root/.$dot; done; true',
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
  lines.push(...systemdLines(setup.hostDir));
  return `${lines.join('\n')}\n`;
}

/** Masks what would act on the machine, writes the boot target, and execs systemd as PID 1. */
function systemdLines(hostDir: string): string[] {
  const units = '/etc/systemd/system';
  const keep = [...HOST_SERVICES, ...JOURNAL_UNITS].join('|');
  const wants = BOOT_TARGET_WANTS.flatMap((t) => [`/lib/systemd/system/${t}.target.wants/*`, `${units}/${t}.target.wants/*`]).join(' ');
  const target = ['[Unit]', 'Description=kbuild test host (test/support/testhosts)', `Wants=${JOURNAL_UNITS.filter((u) => u !== 'systemd-journal-flush.service').join(' ')}`, 'AllowIsolate=yes', ''].join('\n');
  return [
    `for unit in ${ALWAYS_MASKED.join(' ')}; do ln -sf /dev/null ${units}/$unit; done`,
    `for want in ${wants}; do [ -e "$want" ] || [ -L "$want" ] || continue; unit=\${want##*/}; case "$unit" in ${keep}) ;; *) ln -sf /dev/null ${units}/"$unit" ;; esac; done`,
    `printf '%s' ${shellQuote(target)} > ${units}/${HOST_TARGET}`,
    `exec env -i container=kbuild-testhost /lib/systemd/systemd --unit=${HOST_TARGET} >> ${shellQuote(`${hostDir}/systemd.log`)} 2>&1`,
  ];
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
