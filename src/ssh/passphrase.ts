/**
 * The key passphrase prompt: only on an interactive terminal, input not echoed. Kept here rather
 * than in src/report because it reads the terminal as well as writing the question.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { PassphrasePrompt } from './private-key.js';

export const terminalPassphrasePrompt: PassphrasePrompt = (question) => {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return Promise.resolve(undefined);
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const reader = createInterface({ input: process.stdin, output, terminal: true });
  return new Promise((resolve) => {
    reader.question(question, (answer) => {
      process.stderr.write('\n');
      reader.close();
      resolve(answer);
    });
    muted = true; // the question is written; everything after it is the typed secret
  });
};
