// The stand-in's log (stdout, which the stand-in systemctl sends to <state dir>/kubelet.log) and
// status.json, the machine-readable view tests read: one entry per component.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function log(message) {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

/** Writes a JSON file atomically (temp file + rename) so a reader never sees half of it. */
export function writeJsonAtomic(file, value, mode = 0o644) {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode });
  renameSync(temp, file);
}

export class Status {
  constructor(stateDir) {
    this.file = join(stateDir, 'status.json');
    this.components = {};
    this.flush();
  }

  /** Merges `fields` into a component's entry (pid, state, error, manifestHash, since). */
  set(component, fields) {
    this.components[component] = { ...(this.components[component] ?? {}), ...fields, since: new Date().toISOString() };
    this.flush();
  }

  remove(component) {
    delete this.components[component];
    this.flush();
  }

  flush() {
    writeJsonAtomic(this.file, { pid: process.pid, updated: new Date().toISOString(), components: this.components });
  }
}
