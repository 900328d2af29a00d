/** The thread-pool size per command: render keeps libuv's default, the rest get 16, a user's setting wins. */
import { describe, expect, it } from 'vitest';
import { configureThreadPool } from '../../src/threadpool.js';

const sized = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  configureThreadPool(args, env);
  return env.UV_THREADPOOL_SIZE;
};

describe('configureThreadPool', () => {
  it('leaves render on the default and gives other commands 16 threads', () => {
    expect(sized(['render', '-i', 'c.yaml', '-o', 'out'])).toBeUndefined();
    expect(sized(['--no-color', 'render', '-i', 'c.yaml'])).toBeUndefined();
    for (const command of [['apply', '-i', 'c.yaml'], ['certs', 'generate'], ['init'], []]) expect(sized(command)).toBe('16');
  });
  it("never overrides the user's choice", () => {
    expect(sized(['apply'], { UV_THREADPOOL_SIZE: '2' })).toBe('2');
    expect(sized(['render'], { UV_THREADPOOL_SIZE: '32' })).toBe('32');
  });
});
