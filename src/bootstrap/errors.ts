/** Failures of bootstrap-token discovery, each saying which check failed, before anything is written. */
import { ExitCode, KbuildError } from '../errors/index.js';

export type DiscoveryFailure = 'unreachable' | 'no-signature' | 'bad-signature' | 'ca-hash-mismatch' | 'token-rejected' | 'content-changed' | 'malformed';

export class DiscoveryError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly reason: DiscoveryFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`discovery: ${message}`, options);
  }
}
