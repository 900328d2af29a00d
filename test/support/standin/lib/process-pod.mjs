// A static pod played by a real process (etcd, haproxy): started under `setpriv --pdeathsig KILL`
// so it can never outlive the stand-in, restarted with back-off when it crashes (like the kubelet),
// stopped with SIGTERM then SIGKILL.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { setTimeout, clearTimeout } from 'node:timers';
import { log } from './log.mjs';

const STOP_GRACE_MS = 10_000;
const MAX_BACKOFF_MS = 10_000;

export class ProcessPod {
  /**
   * @param name component name (status key)
   * @param argv argv to run (argv[0] resolved on PATH)
   * @param logFile where the process's stdout/stderr go
   * @param status Status
   * @param onExit optional (code, signal) => string|undefined: a fatal reason stops restarts
   */
  constructor({ name, argv, logFile, status, onExit }) {
    Object.assign(this, { name, argv, logFile, status, onExit });
    this.child = undefined;
    this.stopping = false;
    this.failures = 0;
    this.restartTimer = undefined;
  }

  start() {
    this.stopping = false;
    const fd = openSync(this.logFile, 'a');
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...this.argv], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.startedAt = Date.now();
    log(`${this.name}: started pid ${child.pid}: ${this.argv.join(' ')}`);
    this.status.set(this.name, { state: 'running', pid: child.pid, argv: this.argv, log: this.logFile, error: undefined });
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.exited.then(({ code, signal }) => this.handleExit(child, code, signal));
  }

  handleExit(child, code, signal) {
    if (this.child !== child) return;
    this.child = undefined;
    log(`${this.name}: pid ${child.pid} exited (code ${code}, signal ${signal})`);
    if (this.stopping) {
      this.status.set(this.name, { state: 'stopped', pid: undefined, exit: { code, signal } });
      return;
    }
    const fatal = this.onExit?.(code, signal);
    if (fatal) {
      log(`${this.name}: FATAL: ${fatal}; not restarting until its manifest changes`);
      this.status.set(this.name, { state: 'failed', pid: undefined, exit: { code, signal }, error: fatal });
      return;
    }
    // A process that ran a while before dying starts a fresh back-off, like the kubelet's.
    this.failures = Date.now() - this.startedAt > 60_000 ? 1 : this.failures + 1;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (this.failures - 1));
    this.status.set(this.name, { state: 'crash-loop', pid: undefined, exit: { code, signal }, restartInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.stopping) this.start();
    }, delay);
  }

  async stop() {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child) {
      this.status.set(this.name, { state: 'stopped', pid: undefined });
      return;
    }
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(killer);
  }

  /** Synchronous last resort (process 'exit'): no waiting possible. */
  killNow() {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGKILL');
  }
}
