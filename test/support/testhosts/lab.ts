/**
 * A set of test "machines" on this box. Each host is a network namespace on a private bridge, plus
 * mount/UTS/PID/cgroup namespaces whose PID 1 is the real systemd (see host-setup.ts), with a real sshd.
 * See DEVELOPERS.md, "Test hosts".
 */
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForTcp } from '../wait.js';
import { HostProcess } from './host-process.js';
import { cgroupHierarchies, createHostCgroups, removeRunCgroups, runIdsWithCgroups, type CgroupHierarchy } from './cgroups.js';
import { hostSetupScript, shellQuote, sshdConfig, sudoersLine, type NonRootUser } from './host-setup.js';
import { childPids, isRunning, pollUntil, run, runSync, signal, sleep, toolEnv, type CommandResult, type RunOptions } from './processes.js';
import { claimSubnet, destroyNetns, ownerAlive, registerOwner, newRunId, sweepStaleRuns, type SubnetClaim } from './registry.js';
import { generateHostKeys, generateKey, knownHostsLines, type HostKey, type HostKeyType } from './sshkeys.js';

/** A host's namespaces, systemd and sshd come up in about a second; a machine busy with other clusters may take far longer. */
const HOST_START_TIMEOUT_MS = 60_000;

export const NON_ROOT_USER = 'kbtest';
const SSH_PORT = 22;
/** Route realm of a host's default route: traffic it would carry out of the lab is rejected. */
const LEAVES_LAB_REALM = 77;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

export interface TestHostsOptions {
  /** Host names (DNS labels, at most 20 characters), in address order: .11, .12, ... */
  names: readonly string[];
  /** Add user `kbtest` (same authorized key as root, passwordless sudo) to every host. */
  nonRootUser?: boolean;
  /** More directories to start empty on every host (each must lie under /etc, /var, /home, /root, /opt, /usr/local or /srv). */
  extraEmptyDirs?: readonly string[];
}

export interface TestHost {
  name: string;
  address: string;
  /** `ip netns exec <netns> …` works for network-only debugging. */
  netns: string;
  sshPort: number;
  hostKeys: readonly HostKey[];
  /** The root-namespace end of the host's link to the bridge. */
  link: string;
}

export interface ExecOptions extends Omit<RunOptions, 'label'> {
  /** Extra environment variables for the command. */
  env?: NodeJS.ProcessEnv;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
}

interface HostState {
  host: TestHost;
  dir: string;
  holder: ChildProcess;
  /** The host's systemd: PID 1 of its PID namespace, as seen from the root namespace. */
  initPid: number;
  /** The host's cgroup in each hierarchy (root namespace paths): whoever enters the host joins them. */
  cgroups: string[];
  /** `sh enter ARGV…` runs ARGV inside the host: its cgroups, then all its namespaces. */
  enterScript: string;
  sshd: HostProcess | undefined;
}

const liveLabs = new Set<TestLab>();
process.on('exit', () => {
  for (const lab of liveLabs) lab.teardownSync();
});

export class TestLab {
  readonly hosts: TestHost[] = [];
  readonly knownHostsFile: string;
  readonly identityFile: string;
  readonly nonRootUser: string | undefined;
  private readonly states = new Map<string, HostState>();
  private readonly processes = new Set<HostProcess>();
  /** Namespaces created so far, set up or not: teardown deletes them all. */
  private readonly createdNetns: string[] = [];
  private readonly createdLinks: string[] = [];
  private spawnCount = 0;
  private tornDown = false;

  private constructor(
    readonly runId: string,
    /** Shared temp directory of this run (0700): keys, sshd configs, logs. */
    readonly dir: string,
    private readonly subnet: SubnetClaim,
    nonRootUser: boolean,
    private readonly cgroupHierarchies: readonly CgroupHierarchy[],
  ) {
    this.knownHostsFile = join(dir, 'known_hosts');
    this.identityFile = join(dir, 'id_ed25519');
    this.nonRootUser = nonRootUser ? NON_ROOT_USER : undefined;
  }

  /** The lab's /24, e.g. `10.250.17.0/24`. */
  get cidr(): string {
    return this.subnet.cidr.text;
  }

  /** The root namespace's address on the bridge: where hosts reach the test runner. */
  get gateway(): string {
    return this.subnet.gateway;
  }

  get bridge(): string {
    return `${this.runId}br`;
  }

  static async create(options: TestHostsOptions): Promise<TestLab> {
    const bad = options.names.filter((name) => !HOST_NAME.test(name));
    if (bad.length > 0 || options.names.length === 0) throw new Error(`createTestHosts: names must be 1+ DNS labels of at most 20 characters; bad: ${bad.join(', ') || '(none given)'}`);
    if (new Set(options.names).size !== options.names.length) throw new Error(`createTestHosts: duplicate host names in ${options.names.join(', ')}`);
    if (process.getuid?.() !== 0) throw new Error('createTestHosts: test hosts need root (network namespaces, mounts, sshd); run the e2e tests as root');
    sweepStaleRuns();
    const hierarchies = cgroupHierarchies();
    for (const id of runIdsWithCgroups(hierarchies)) if (!ownerAlive(id)) removeRunCgroups(hierarchies, id);
    const runId = newRunId();
    const dir = registerOwner(runId);
    const lab = new TestLab(runId, dir, claimSubnet(runId), options.nonRootUser ?? false, hierarchies);
    liveLabs.add(lab);
    try {
      await lab.build(options);
    } catch (error) {
      await lab.teardown();
      throw new Error(`test hosts ${runId} (${options.names.join(', ')}): ${(error as Error).message}`, { cause: error });
    }
    return lab;
  }

  private async build(options: TestHostsOptions): Promise<void> {
    mkdirSync(join(this.dir, 'logs'), { mode: 0o700 });
    const identity = await generateKey(this.identityFile, 'ed25519', 'kbuild-tests');
    await this.ip(['link', 'add', this.bridge, 'type', 'bridge']);
    await this.ip(['addr', 'add', `${this.gateway}/${this.subnet.cidr.prefix}`, 'dev', this.bridge]);
    await this.ip(['link', 'set', this.bridge, 'up']);
    // Hosts have a default route through the bridge (as a machine does: the kernel needs one for Service
    // IPs before kube-proxy rewrites them), but nothing they send may leave the lab: each host rejects
    // what its default route would carry (below), and this machine never forwards what arrives on the
    // lab's bridge, whatever its own ip_forward.
    writeFileSync(`/proc/sys/net/ipv4/conf/${this.bridge}/forwarding`, '0');
    const user = options.nonRootUser ? freeUser(NON_ROOT_USER) : undefined;
    const etcHosts = this.etcHosts(options.names);
    await Promise.all(options.names.map((name, index) => this.addHost(name, index, { identity, etcHosts, user, extraEmptyDirs: options.extraEmptyDirs ?? [] })));
    // Keep the caller's order whatever order the hosts finished in.
    this.hosts.sort((a, b) => options.names.indexOf(a.name) - options.names.indexOf(b.name));
    writeFileSync(this.knownHostsFile, this.knownHostsText(), { mode: 0o600 });
  }

  private etcHosts(names: readonly string[]): string {
    const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', ...names.map((name, index) => `${this.subnet.hostAddress(index)} ${name}`)];
    return `${lines.join('\n')}\n`;
  }

  private async addHost(name: string, index: number, shared: { identity: string; etcHosts: string; user: NonRootUser | undefined; extraEmptyDirs: readonly string[] }): Promise<void> {
    const hostDir = join(this.dir, 'hosts', name);
    const privateDir = join(hostDir, 'private');
    mkdirSync(privateDir, { recursive: true, mode: 0o700 });
    const hostKeys = await generateHostKeys(hostDir, name);
    const host: TestHost = { name, address: this.subnet.hostAddress(index), netns: `${this.runId}-${name}`, sshPort: SSH_PORT, hostKeys, link: `${this.runId}-${index}` };
    writeFileSync(join(hostDir, 'hosts'), shared.etcHosts);
    writeFileSync(join(hostDir, 'authorized_keys'), `${shared.identity} kbuild-tests\n`, { mode: 0o600 });
    if (shared.user) writeFileSync(join(hostDir, 'sudoers'), sudoersLine(shared.user.name), { mode: 0o440 });
    const machineId = randomBytes(16).toString('hex');
    writeFileSync(join(hostDir, 'setup.sh'), hostSetupScript({ hostName: name, hostDir, privateDir, nonRootUser: shared.user, extraEmptyDirs: shared.extraEmptyDirs, cgroups: this.cgroupHierarchies, machineId }));
    writeFileSync(join(hostDir, 'sshd_config'), sshdConfig({ hostDir, hostKeyFiles: hostKeys.map((key) => key.privateKeyFile), port: SSH_PORT }));

    this.createdNetns.push(host.netns);
    await this.ip(['netns', 'add', host.netns]);
    this.createdLinks.push(host.link);
    await this.ip(['link', 'add', host.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns]);
    await this.ip(['link', 'set', host.link, 'master', this.bridge, 'up']);
    await this.ip(['-n', host.netns, 'addr', 'add', `${host.address}/${this.subnet.cidr.prefix}`, 'dev', 'eth0']);
    await this.ip(['-n', host.netns, 'link', 'set', 'eth0', 'up']);
    await this.ip(['-n', host.netns, 'link', 'set', 'lo', 'up']);
    // The default route carries a realm so the host's own firewall can refuse at once whatever would
    // really leave through it (its first route lookup of a Service IP uses it before kube-proxy's DNAT).
    await this.ip(['-n', host.netns, 'route', 'add', 'default', 'via', this.gateway, 'realm', String(LEAVES_LAB_REALM)]);
    for (const chain of ['OUTPUT', 'FORWARD']) {
      await run(['ip', 'netns', 'exec', host.netns, 'iptables', '-w', '5', '-A', chain, '-m', 'realm', '--realm', String(LEAVES_LAB_REALM), '-m', 'comment', '--comment', 'kbuild test host: nothing leaves the lab', '-j', 'REJECT'], { label: `host ${name}`, timeoutMs: 30_000 });
    }

    const cgroups = createHostCgroups(this.cgroupHierarchies, this.runId, name);
    const { holder, initPid } = await startHolder(host, hostDir, cgroups);
    const enterScript = join(hostDir, 'enter');
    writeFileSync(enterScript, enterScriptText(initPid, cgroups), { mode: 0o700 });
    this.states.set(name, { host, dir: hostDir, holder, initPid, cgroups, enterScript, sshd: undefined });
    this.hosts.push(host);
    await this.waitForSystemd(name);
    await this.startSshd(name);
  }

  host(name: string): TestHost {
    return this.state(name).host;
  }

  private state(name: string): HostState {
    const state = this.states.get(name);
    if (!state) throw new Error(`no test host named ${name}; hosts: ${[...this.states.keys()].join(', ')}`);
    return state;
  }

  /** One host key of a host, by type. */
  hostKey(name: string, type: HostKeyType): HostKey {
    const key = this.host(name).hostKeys.find((candidate) => candidate.type === type);
    if (!key) throw new Error(`host ${name} has no ${type} host key`);
    return key;
  }

  /** known_hosts text for the given hosts (all by default) and key types (all by default). */
  knownHostsText(names: readonly string[] = this.hosts.map((host) => host.name), types?: readonly HostKeyType[]): string {
    const lines = names.flatMap((name) => {
      const host = this.host(name);
      const keys = host.hostKeys.filter((key) => !types || types.includes(key.type));
      return knownHostsLines(host.address, host.name, keys, host.sshPort);
    });
    return `${lines.join('\n')}\n`;
  }

  /** `spec.ssh` settings that reach these hosts (for a cluster file). */
  get sshDefaults(): { user: string; port: number; identityFile: string; knownHostsFile: string } {
    return { user: 'root', port: SSH_PORT, identityFile: this.identityFile, knownHostsFile: this.knownHostsFile };
  }

  /**
   * argv for the real OpenSSH client, strict host-key checking against the lab's known_hosts.
   * `jumpHost` goes through that host's sshd (ProxyCommand, checked against the same known_hosts).
   */
  sshArgv(name: string, remoteCommand: readonly string[], options: { user?: string; options?: readonly string[]; jumpHost?: string } = {}): string[] {
    const host = this.host(name);
    const opts = [...(options.options ?? []), 'BatchMode=yes', 'StrictHostKeyChecking=yes', `UserKnownHostsFile=${this.knownHostsFile}`, 'GlobalKnownHostsFile=/dev/null', 'ConnectTimeout=5', 'IdentitiesOnly=yes', 'LogLevel=ERROR'];
    if (options.jumpHost !== undefined) {
      const jump = this.host(options.jumpHost);
      const proxy = this.sshArgv(jump.name, []).slice(0, -1).map((arg) => (arg === `root@${jump.address}` ? `-W %h:%p root@${jump.address}` : shellQuote(arg)));
      opts.unshift(`ProxyCommand=${proxy.join(' ')}`);
    }
    return ['ssh', '-F', '/dev/null', ...opts.flatMap((opt) => ['-o', opt]), '-i', this.identityFile, '-p', String(host.sshPort), `${options.user ?? 'root'}@${host.address}`, '--', ...remoteCommand];
  }

  private nsenterArgv(name: string, argv: readonly string[]): string[] {
    return ['sh', this.state(name).enterScript, ...argv];
  }

  /** The command a person can paste to get a shell inside a host (see DEVELOPERS.md). */
  debugShellCommand(name: string): string {
    return this.nsenterArgv(name, ['bash']).join(' ');
  }

  /** Waits (at most 30 s) until the host's systemd has booted its target. */
  private async waitForSystemd(name: string): Promise<void> {
    let seen = '';
    try {
      await pollUntil(`host ${name}: systemd to finish booting`, 30_000, async () => {
        const result = await this.exec(name, ['systemctl', 'is-system-running'], { allowFailure: true, timeoutMs: 10_000 });
        seen = result.stdout.trim();
        return seen === 'running' || seen === 'degraded' ? true : undefined;
      }, 200);
    } catch (error) {
      throw new Error(`${(error as Error).message} (last state: ${seen || 'none'}; log: ${join(this.state(name).dir, 'systemd.log')})`, { cause: error });
    }
  }

  /**
   * Runs a command inside a host (all its namespaces), as root. A string runs through `sh -c`.
   * Throws on a non-zero exit unless `allowFailure`; killed after `timeoutMs` (default 60 s).
   */
  exec(name: string, command: string | readonly string[], options: ExecOptions = {}): Promise<CommandResult> {
    const argv = typeof command === 'string' ? ['sh', '-c', command] : command;
    return run(this.nsenterArgv(name, argv), { ...options, env: toolEnv({ HOME: '/root', ...options.env }), label: `host ${name}` }, (pid) => {
      for (const inner of childPids(pid)) signal(inner, 'SIGKILL');
    });
  }

  /** Starts a long-running process inside a host; it is stopped by `teardown` if still running. */
  spawn(name: string, argv: readonly string[], options: SpawnOptions = {}): HostProcess {
    this.state(name);
    const base = (argv[0] ?? 'process').split('/').pop() ?? 'process';
    const logFile = join(this.dir, 'logs', `${name}-${base}-${++this.spawnCount}.log`);
    const child = new HostProcess(name, argv, this.nsenterArgv(name, argv), logFile, { HOME: '/root', ...options.env });
    this.processes.add(child);
    void child.exited.then(() => this.processes.delete(child));
    return child;
  }

  /** Starts the host's sshd and waits (at most 10 s) until it accepts connections. */
  async startSshd(name: string): Promise<void> {
    const state = this.state(name);
    if (state.sshd?.running) throw new Error(`host ${name}: sshd is already running`);
    const sshd = this.spawn(name, ['/usr/sbin/sshd', '-D', '-e', '-f', join(state.dir, 'sshd_config')]);
    state.sshd = sshd;
    await waitForTcp(state.host.address, state.host.sshPort, { timeoutMs: HOST_START_TIMEOUT_MS, abortIf: () => sshd.assertRunning() });
  }

  /** Stops the host's sshd (new connections are refused; the host itself keeps running). */
  async killSshd(name: string): Promise<void> {
    const state = this.state(name);
    await state.sshd?.stop();
    state.sshd = undefined;
  }

  /** Takes the host off the bridge: packets to and from it are dropped, connections time out. */
  async setLinkDown(name: string): Promise<void> {
    await this.ip(['link', 'set', this.host(name).link, 'down']);
  }

  async setLinkUp(name: string): Promise<void> {
    await this.ip(['link', 'set', this.host(name).link, 'up']);
  }

  /**
   * Makes a host unreachable from the test runner while other hosts still reach it: the host
   * gets no route back to the runner's bridge address. Use it for "only through a bastion".
   */
  async blockRunner(name: string): Promise<void> {
    await this.ip(['-n', this.host(name).netns, 'route', 'add', 'prohibit', `${this.gateway}/32`]);
  }

  async unblockRunner(name: string): Promise<void> {
    await this.ip(['-n', this.host(name).netns, 'route', 'del', 'prohibit', `${this.gateway}/32`]);
  }

  /** Pids (root namespace) of every process of the lab's hosts, holders included. */
  pids(): number[] {
    const pids = new Set<number>();
    for (const state of this.states.values()) {
      if (state.holder.pid !== undefined) pids.add(state.holder.pid);
      for (const pid of runSync(['ip', 'netns', 'pids', state.host.netns]).stdout.split(/\s+/).filter(Boolean)) pids.add(Number(pid));
    }
    for (const child of this.processes) pids.add(child.pid);
    return [...pids].filter(isRunning);
  }

  private ip(args: readonly string[]): Promise<CommandResult> {
    return run(['ip', ...args], { label: `test hosts ${this.runId}`, timeoutMs: 30_000 });
  }

  /** Stops every process, deletes namespaces, bridge and files. Safe to call more than once. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all([...this.processes].map((child) => child.stop(3_000).catch(() => undefined)));
    // Killing a host's PID 1 makes the kernel kill everything else in that host.
    for (const state of this.states.values()) signal(state.initPid, 'SIGKILL');
    await Promise.all(
      [...this.states.values()].map(async (state) => {
        const ended = await Promise.race([new Promise<true>((resolve) => (state.holder.exitCode !== null || state.holder.signalCode !== null ? resolve(true) : state.holder.once('close', () => resolve(true)))), sleep(5_000)]);
        if (!ended) signal(state.holder.pid ?? 0, 'SIGKILL');
      }),
    );
    this.removeSystemState();
  }

  /** Last-resort cleanup from `process.on('exit')`: no waiting possible, so SIGKILL everything. */
  teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const child of this.processes) signal(child.pid, 'SIGKILL');
    for (const state of this.states.values()) {
      signal(state.initPid, 'SIGKILL');
      signal(state.holder.pid ?? 0, 'SIGKILL');
    }
    this.removeSystemState();
  }

  private removeSystemState(): void {
    // A veth pair dies with its namespace only when the kernel gets round to it: delete it now.
    for (const link of this.createdLinks) runSync(['ip', 'link', 'delete', link]);
    for (const netns of this.createdNetns) destroyNetns(netns);
    // Creation may have failed half-way: delete by name whatever exists.
    runSync(['ip', 'link', 'delete', this.bridge]);
    removeCgroupsOf(this.cgroupHierarchies, this.runId);
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.subnet.claimFile, { force: true });
    liveLabs.delete(this);
  }
}

/** A host's cgroups empty a moment after its PID 1 dies (the kernel reaps its processes): retry briefly. */
function removeCgroupsOf(hierarchies: readonly CgroupHierarchy[], runId: string): void {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (removeRunCgroups(hierarchies, runId).length === 0) return;
    runSync(['sleep', '0.1']);
  }
}

/** Joins the host's cgroups, then enters all its namespaces (nsenter does not move a process between cgroups). */
function enterScriptText(initPid: number, cgroups: readonly string[]): string {
  return [
    '#!/bin/sh',
    `for group in ${cgroups.map(shellQuote).join(' ')}; do echo $$ > "$group/cgroup.procs"; done`,
    `exec nsenter --target=${initPid} --pid --net --mount --uts --cgroup --wd=/ -- "$@"`,
    '',
  ].join('\n');
}

/** Starts the process that creates and then holds a host's namespaces; resolves once setup is done. */
async function startHolder(host: TestHost, hostDir: string, cgroups: readonly string[]): Promise<{ holder: ChildProcess; initPid: number }> {
  // pdeathsig: if the test process dies without teardown, the holder dies, and with it the host.
  // The holder joins the host's cgroups first: the cgroup namespace made next is rooted there.
  const joinCgroups = `for group in ${cgroups.map(shellQuote).join(' ')}; do echo $$ > "$group/cgroup.procs"; done; exec "$@"`;
  const argv = ['setpriv', '--pdeathsig', 'KILL', '--', 'sh', '-c', joinCgroups, 'join-cgroups', 'nsenter', `--net=/run/netns/${host.netns}`, '--', 'unshare', '--pid', '--fork', '--kill-child', '--mount', '--uts', '--cgroup', '--propagation', 'private', '--mount-proc', '--', 'sh', join(hostDir, 'setup.sh')];
  const holder = spawnChild(argv[0]!, argv.slice(1), { env: toolEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  holder.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const failure = (): Error => new Error(`host ${host.name}: namespace setup failed (exit ${holder.exitCode ?? holder.signalCode}):\n${stderr.trim()}\nscript: ${join(hostDir, 'setup.sh')}`);
  const initPid = await pollUntil(`host ${host.name} setup`, HOST_START_TIMEOUT_MS, () => {
    if (holder.exitCode !== null || holder.signalCode !== null) throw failure();
    const [pid] = holder.pid === undefined ? [] : childPids(holder.pid);
    if (pid === undefined) return undefined;
    // Setup ends by exec'ing systemd: until then the host is not ready.
    return readComm(pid) === 'systemd' ? pid : undefined;
  });
  return { holder, initPid };
}

function readComm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A uid/gid free on this machine for the test user (the user exists only inside the hosts). */
function freeUser(name: string): NonRootUser {
  const used = new Set<number>();
  for (const file of ['/etc/passwd', '/etc/group']) {
    for (const line of readFileSync(file, 'utf8').split('\n')) used.add(Number(line.split(':')[2]));
  }
  for (let id = 2900; id < 60_000; id++) if (!used.has(id)) return { name, uid: id, gid: id };
  throw new Error('no free uid/gid between 2900 and 60000 for the test user');
}

export async function createTestHosts(options: TestHostsOptions): Promise<TestLab> {
  return TestLab.create(options);
}
