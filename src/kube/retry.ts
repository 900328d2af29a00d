/**
 * kubeadm's API call discipline (§11): retry every 500 ms for up to 1 m while the API server is not
 * answering (connection refused, timeouts, 429, 5xx). Answers that will not change (403, 404, 409,
 * 422) go back to the caller at once, which decides. The API client applies this to every request.
 */
import { ApiError } from '../errors/index.js';
import { sleep } from '../util/pool.js';

export const API_INTERVAL_MS = 500;
export const API_TIMEOUT_MS = 60_000;

export interface RetryOptions {
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
}

/** No answer, throttled or a server error: worth asking again. */
export const isTransient = (error: unknown): boolean => {
  const status = error instanceof ApiError ? error.status : undefined;
  return status === undefined || status === 429 || status >= 500;
};

/** Calls until it succeeds or fails with an error `retryable` refuses, within the window; then the last error. */
export async function retrying<T>(call: () => Promise<T>, options: RetryOptions = {}, retryable: (error: unknown) => boolean = isTransient): Promise<T> {
  const now = options.now ?? Date.now;
  const delay = options.delay ?? sleep;
  const interval = options.intervalMs ?? API_INTERVAL_MS;
  const deadline = now() + (options.timeoutMs ?? API_TIMEOUT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!retryable(error) || now() + interval > deadline || attempt > 10_000) throw error;
      await delay(interval);
    }
  }
}
