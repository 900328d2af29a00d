/** Runs a command line the way sshd does: the login shell gets the whole string, stdin as given. */
import { spawn } from 'node:child_process';

export interface ShResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function sh(commandLine: string, stdin: Buffer | string = ''): Promise<ShResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', commandLine]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined); // scripts that stop reading early, or never read
    child.stdin.end(stdin);
  });
}
