/** `kbuild` in-process: main() with streams that collect what it prints, as the real binary's exit code and output. */
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../src/cli.js';
import { streamIo } from '../../src/report/output.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const collector = (chunks: string[]) =>
  new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });

/** Runs `kbuild ...args` without a terminal (no TTY: plain progress, prompts answer "no terminal"). */
export async function kbuild(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, streamIo({ stdout: collector(out), stderr: collector(err), stdin: new PassThrough() }));
  return { code, stdout: out.join(''), stderr: err.join('') };
}
