/**
 * kbuild's entry point: builds the yargs CLI and maps errors to exit codes.
 * Only this file decides exit codes; commands throw. `main` writes only to the streams it is given.
 */
import 'reflect-metadata'; // @peculiar/x509 relies on it; must load before any certificate code.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { ExitCode, KbuildError, UsageError } from './errors/index.js';
import { streamIo, type Io } from './report/output.js';
import { commands } from './commands/index.js';

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function main(argv: string[], io: Io): Promise<number> {
  const parser = yargs()
    .scriptName('kbuild')
    .usage('$0 <command> [options]\n\nProvision Kubernetes clusters the kubeadm way, from one cluster file.')
    .command(commands(io))
    .demandCommand(1, 'name a command; see kbuild --help')
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(version)
    .wrap(Math.min(110, io.streams.stdout.columns || 100))
    .epilogue('Exit codes: 0 ok, 1 check or step failed, 2 usage error, 3 certificates need attention, 70 internal error.')
    .fail((message: string | null, error: Error | undefined) => {
      // yargs reports usage problems here and would carry on into the handler: stop instead.
      // A failing handler arrives without a message (rethrown as is); a failing .check() or
      // coerce arrives with its message and is a usage error, printed without a stack.
      if (error && (message === null || error instanceof KbuildError)) throw error;
      const said = message ?? 'invalid command line';
      const text = said.startsWith('Did you mean') ? `unknown command. ${said}` : said;
      throw new UsageError(`kbuild: ${text}\nRun kbuild --help for usage.`);
    });
  // With a callback yargs hands over what it would print (--help, --version) instead of printing it
  // and exiting the process.
  let said = '';
  try {
    await parser.parseAsync(argv, {}, (_error, _args, output) => {
      said = output;
    });
  } catch (error) {
    return reportError(error, io);
  }
  if (said) io.print(said);
  return ExitCode.ok;
}

/** What the user sees for an error and the exit code it means: a user error is its message; anything else is a bug, with its stack. */
export function reportError(error: unknown, io: Io): number {
  if (error instanceof KbuildError && error.userFacing) {
    io.warn(error.message);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.warn(`kbuild: internal error (please report it with the command you ran):\n${detail}`);
  return ExitCode.internal;
}

/** The process's own terminal. */
export const processIo = (): Io => streamIo({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

export async function run(): Promise<void> {
  process.exitCode = await main(hideBin(process.argv), processIo());
}
