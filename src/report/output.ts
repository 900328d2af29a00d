/**
 * The only place kbuild writes to the terminal. Commands print results with `print`
 * (stdout) and diagnostics with `warn`/`fail` (stderr); phases go through the reporter.
 */
export interface Output {
  print(line: string): void;
  warn(line: string): void;
}

export const terminal: Output = {
  print: (line) => void process.stdout.write(`${line}\n`),
  warn: (line) => void process.stderr.write(`${line}\n`),
};

/** Collects lines instead of printing; for tests and JSON modes. */
export function captureOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, print: (l) => void stdout.push(l), warn: (l) => void stderr.push(l) };
}
