/**
 * Progress output for phased commands. Phases report events; a renderer shows them: plain lines
 * (CI logs, pipes) and a JSON event stream here, listr2 on a terminal in listr.ts; choose.ts picks one.
 */
import type { Output } from './output.js';

export type ReportEvent =
  | { type: 'phase-start'; phase: string; hosts: string[] }
  | { type: 'phase-skip'; phase: string; reason: string }
  | { type: 'phase-done'; phase: string }
  | { type: 'host-done'; phase: string; host: string; changed: string[] }
  | { type: 'host-failed'; phase: string; host: string; error: string }
  | { type: 'gate-wait'; phase: string; gate: string; host: string; seen: string }
  | { type: 'gate-pass'; phase: string; gate: string; host: string }
  | { type: 'info'; message: string; host?: string }
  | { type: 'warn'; message: string; host?: string };

export interface Reporter {
  /** Wraps one phase so a terminal renderer can show it as a task with live output. */
  phase<T>(path: string, title: string, body: () => Promise<T>): Promise<T>;
  event(event: ReportEvent): void;
  close(): Promise<void>;
}

const describeEvent = (e: ReportEvent): string | undefined => {
  switch (e.type) {
    case 'phase-start':
      return `[${e.phase}] on ${e.hosts.length > 0 ? e.hosts.join(', ') : 'this run'}`;
    case 'phase-skip':
      return `[${e.phase}] skipped: ${e.reason}`;
    case 'phase-done':
      return undefined;
    case 'host-done':
      return `[${e.phase}] ${e.host}: ${e.changed.length === 0 ? 'no changes' : e.changed.join(', ')}`;
    case 'host-failed':
      return `[${e.phase}] ${e.host}: FAILED: ${e.error}`;
    case 'gate-wait':
      return `[${e.phase}] ${e.host}: waiting for ${e.gate}: ${e.seen}`;
    case 'gate-pass':
      return `[${e.phase}] ${e.host}: ${e.gate} healthy`;
    case 'info':
      return e.host ? `${e.host}: ${e.message}` : e.message;
    case 'warn':
      return `warning: ${e.host ? `${e.host}: ` : ''}${e.message}`;
  }
};

/** One line per event; for CI logs and pipes. Gate waits are throttled to one line per host and gate. */
export function plainReporter(output: Output): Reporter {
  const waited = new Set<string>();
  return {
    phase: (_path, _title, body) => body(),
    event(e) {
      if (e.type === 'gate-wait') {
        const key = `${e.phase}\u0000${e.host}\u0000${e.gate}`;
        if (waited.has(key)) return;
        waited.add(key);
      }
      const line = describeEvent(e);
      if (line === undefined) return;
      if (e.type === 'warn' || e.type === 'host-failed') output.warn(line);
      else output.print(line);
    },
    close: async () => {},
  };
}

/** Newline-delimited JSON events on stdout, one object per event with a timestamp. */
export function jsonReporter(output: Output, now: () => Date = () => new Date()): Reporter {
  return {
    phase: (_path, _title, body) => body(),
    event: (e) => output.print(JSON.stringify({ time: now().toISOString(), ...e })),
    close: async () => {},
  };
}

/** Keeps every event; tests assert on order (e.g. the order of gate passes). */
export function recordingReporter(): Reporter & { events: ReportEvent[] } {
  const events: ReportEvent[] = [];
  return { events, phase: (_p, _t, body) => body(), event: (e) => void events.push(e), close: async () => {} };
}
