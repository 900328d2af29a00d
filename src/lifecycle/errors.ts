/** Errors of the certificate lifecycle commands. */
import { ExitCode, KbuildError } from '../errors/index.js';

/** A restart or health gate failed during a roll-out; the host's old files were put back. */
export class RolloutError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly host: string,
    readonly pod: string,
    readonly lastError: string,
    readonly backupDir: string,
    /** "recovered", or what the restart with the restored files saw. */
    readonly afterRestore: string,
  ) {
    super(
      `${host}: ${pod} did not come back healthy with the new certificates: ${lastError}. ` +
        `The previous files were restored from ${backupDir} on ${host} and ${pod} restarted ` +
        `(${afterRestore === 'recovered' ? 'it is healthy again' : `still unhealthy: ${afterRestore}`}). ` +
        'The roll-out stopped here; hosts after this one were not touched. Fix the cause and run the command again.',
    );
  }
}
