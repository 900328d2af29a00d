/**
 * Test hosts for end-to-end tests: network namespaces on a private bridge with private mounts,
 * their own hostname and a real sshd each. Usage and debugging: DEVELOPERS.md, "Test hosts".
 *
 *   const lab = await createTestHosts({ names: ['cp1', 'cp2', 'w1'], nonRootUser: true });
 *   afterAll(() => lab.teardown());
 *   await lab.exec('cp1', 'cat /etc/hostname');
 */
export { createTestHosts, TestLab, NON_ROOT_USER, type TestHost, type TestHostsOptions, type ExecOptions, type SpawnOptions } from './testhosts/lab.js';
export { HostProcess, type ProcessExit } from './testhosts/host-process.js';
export { fingerprintOf, HOST_KEY_TYPES, type HostKey, type HostKeyType } from './testhosts/sshkeys.js';
export { OVERLAY_DIRS, EMPTY_DIRS } from './testhosts/host-setup.js';
export { listNetns, listLinks, NAME_PREFIX, REGISTRY_DIR } from './testhosts/registry.js';
export { run, type CommandResult, type RunOptions } from './testhosts/processes.js';
export { waitForTcp, canConnect } from './wait.js';
