/**
 * Questions on the command's terminal: only when it is interactive, answered undefined otherwise so
 * nothing ever waits for an answer nobody can give. They read as well as write, and live here with
 * the rest of the terminal code.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { Streams } from './output.js';

/** Asks a yes/no question; answers undefined when there is no terminal to ask on. */
export type YesNoPrompt = (question: string) => Promise<boolean | undefined>;
/** Asks for a secret; undefined when no one can be asked. */
export type SecretPrompt = (question: string) => Promise<string | undefined>;

const interactive = (streams: Streams) => streams.stdin.isTTY === true && streams.stderr.isTTY === true;

/** The y/N prompt on stdin/stderr. */
export const terminalYesNo =
  (streams: Streams): YesNoPrompt =>
  (question) => {
    if (!interactive(streams)) return Promise.resolve(undefined);
    const reader = createInterface({ input: streams.stdin, output: streams.stderr, terminal: true });
    return new Promise((resolve) => {
      reader.question(question, (answer) => {
        reader.close();
        resolve(/^y(es)?$/i.test(answer.trim()));
      });
    });
  };

/** A key passphrase, input not echoed. */
export const terminalSecretPrompt =
  (streams: Streams): SecretPrompt =>
  (question) => {
    if (!interactive(streams)) return Promise.resolve(undefined);
    let muted = false;
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (!muted) streams.stderr.write(chunk);
        done();
      },
    });
    const reader = createInterface({ input: streams.stdin, output, terminal: true });
    return new Promise((resolve) => {
      reader.question(question, (answer) => {
        streams.stderr.write('\n');
        reader.close();
        resolve(answer);
      });
      muted = true; // the question is written; everything after it is the typed secret
    });
  };
