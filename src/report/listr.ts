/** Terminal progress with listr2: each phase is a task; host lines stream as its output. */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import type { Io } from './output.js';
import { plainReporter, type ReportEvent, type Reporter } from './reporter.js';

export function listrReporter(io: Io): Reporter {
  const lines = plainReporter(io);
  // listr2 writes to the command's own streams, not the process's.
  const processOutput = new ProcessOutput(io.streams.stdout as NodeJS.WriteStream, io.streams.stderr as NodeJS.WriteStream);
  let current: ((line: string) => void) | undefined;
  return {
    async phase(_path, title, body) {
      let result: Awaited<ReturnType<typeof body>> | undefined;
      const list = new Listr(
        [
          {
            title,
            task: async (_ctx, task) => {
              current = (line) => (task.output = line);
              result = await body();
            },
            rendererOptions: { persistentOutput: false },
          },
        ],
        { exitOnError: true, rendererOptions: { collapseErrors: false, logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput }) } },
      );
      try {
        await list.run();
      } finally {
        current = undefined;
      }
      return result as Awaited<ReturnType<typeof body>>;
    },
    event(e: ReportEvent) {
      // Failures and warnings must survive the task's collapse: print them as lines.
      if (current && e.type !== 'warn' && e.type !== 'host-failed' && e.type !== 'phase-skip') {
        const text = e.type === 'host-done' ? `${e.host}: ${e.changed.length === 0 ? 'no changes' : `${e.changed.length} changed`}` : e.type === 'gate-wait' ? `${e.host}: waiting for ${e.gate}: ${e.seen}` : e.type === 'gate-pass' ? `${e.host}: ${e.gate} healthy` : undefined;
        if (text) current(text);
        return;
      }
      lines.event(e);
    },
    close: async () => {},
  };
}
