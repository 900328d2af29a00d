/**
 * kubeadm's API call discipline (§11): retry every 500 ms for up to 1 m while the API server is not
 * answering (connection refused, timeouts, 429, 5xx). Answers that will not change (403, 404, 409,
 * 422) are returned at once to the caller, which decides.
 */
import { ExitCode, KbuildError, describe } from '../errors/index.js';
import { sleep } from '../util/pool.js';

export const API_INTERVAL_MS = 500;
export const API_TIMEOUT_MS = 60_000;

export interface RetryOptions {
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
  delay?: (ms: number) => Promise<void>;
}

/** The HTTP status of a failed call: ApiError.status (src/kube/client.ts) or client-node's ApiException.code. */
export const httpCode = (error: unknown): number | undefined => {
  const e = error as { status?: unknown; code?: unknown } | undefined;
  if (typeof e?.status === 'number') return e.status;
  return typeof e?.code === 'number' ? e.code : undefined;
};

const transient = (error: unknown): boolean => {
  const code = httpCode(error);
  return code === undefined || code === 429 || code >= 500;
};

export async function withApiRetry<T>(what: string, call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const now = options.now ?? Date.now;
  const delay = options.delay ?? sleep;
  const interval = options.intervalMs ?? API_INTERVAL_MS;
  const deadline = now() + (options.timeoutMs ?? API_TIMEOUT_MS);
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!transient(error) || now() + interval > deadline || attempt > 10_000) {
        throw new ApiCallError(what, error);
      }
      await delay(interval);
    }
  }
}

/** An API call that failed for good; names the call and keeps the cause. */
export class ApiCallError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly call: string,
    cause: unknown,
  ) {
    super(`${call}: ${describeApiError(cause)}`, { cause });
  }
  get status(): number | undefined {
    return httpCode(this.cause);
  }
}

function describeApiError(error: unknown): string {
  const code = httpCode(error);
  const body = (error as { body?: unknown } | undefined)?.body;
  const message = typeof body === 'string' ? (/"message":"([^"]*)"/.exec(body)?.[1] ?? body.slice(0, 200)) : describe(error);
  return code === undefined ? message : `HTTP ${code}: ${message}`;
}
