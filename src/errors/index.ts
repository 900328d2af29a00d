/**
 * One error type per failure kind. User errors carry a message a person can act on and are
 * printed without a stack; anything else is an internal error and asks to be reported.
 */

/** Process exit codes; documented in the README ("Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** The cluster file, the hosts or a remote step failed a check (config, preflight, gate). */
  failed: 1,
  /** Bad command line: unknown flag, missing argument. */
  usage: 2,
  /** A certificate expires inside the --fail-within window, or a served certificate mismatches. */
  certificateAttention: 3,
  /** A bug in kbuild. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class KbuildError extends Error {
  abstract readonly exitCode: ExitCode;
  /** User errors print without a stack trace. */
  readonly userFacing: boolean = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem found in the cluster file, with where it is and what to do. */
export interface Problem {
  /** Dotted field path, e.g. `spec.hosts[2].address`; empty for the whole document. */
  path: string;
  message: string;
  /** 1-based line in the file, when it can be located. */
  line?: number;
}

/** Control and bidi-override characters from a cluster file, shown escaped so one problem stays one honest line. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeUnprintable = (text: string) => text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function formatProblem(file: string, problem: Problem): string {
  const where = problem.line !== undefined ? `${file}:${problem.line}` : file;
  const message = escapeUnprintable(problem.message);
  return problem.path ? `${where}: ${escapeUnprintable(problem.path)}: ${message}` : `${where}: ${message}`;
}

/** The cluster file is unreadable or invalid. Carries every problem, not just the first. */
export class ConfigError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly file: string,
    readonly problems: readonly Problem[],
  ) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
  }
}

/**
 * The command line itself is wrong: an unknown flag or phase, a malformed flag value, flags that do
 * not go together (yargs catches most of these before we do). Never for what a run finds.
 */
export class UsageError extends KbuildError {
  readonly exitCode = ExitCode.usage;
}

/**
 * What a run found does not let the step go on: the cluster (a missing ConfigMap or Secret, a Node
 * that already exists, an etcd learner that is not promoted), a host, or this machine (no default
 * route, none of its addresses in the cluster file). The message says what was found and what to do.
 */
export class StateError extends KbuildError {
  readonly exitCode = ExitCode.failed;
}

/** A local file or directory kbuild needs is missing, unreadable or would be clobbered. */
export class FileError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** The PKI in the state directory or on a host cannot be used as it is. */
export class PkiError extends KbuildError {
  readonly exitCode = ExitCode.failed;
}

/** A host could not be reached or refused us (network, auth, host key). */
export class ConnectionError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly host: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${host}: ${message}`, options);
  }
}

/**
 * An established connection dropped. `commandStarted` says whether the operation had been sent:
 * if not, repeating it after a reconnect is always safe; if so, only when it is idempotent.
 */
export class ConnectionLostError extends ConnectionError {
  constructor(
    host: string,
    message: string,
    readonly commandStarted: boolean,
    options?: { cause?: unknown },
  ) {
    super(host, message, options);
  }
}

/** The host key presented does not match known_hosts, or is unknown. Never silently accepted. */
export class HostKeyError extends ConnectionError {}

/** A command run on a host exited non-zero. */
export class RemoteCommandError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly host: string,
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    const tail = stderr.trim().split('\n').slice(-5).join('\n    ');
    super(`${host}: \`${command}\` exited with ${code ?? 'a signal'}${tail ? `:\n    ${tail}` : ''}`);
  }
}

/** Preflight checks failed on one or more hosts. */
export class PreflightError extends KbuildError {
  readonly exitCode = ExitCode.failed;
}

/** A health gate did not pass in time; the message says what was last seen. */
export class HealthGateError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly gate: string,
    readonly host: string,
    readonly lastSeen: string,
  ) {
    super(`${host}: health gate "${gate}" did not pass: last seen: ${lastSeen}`);
  }
}

/** Several hosts failed in one phase; each cause is kept. */
export class MultiHostError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly phase: string,
    readonly failures: ReadonlyArray<{ host: string; error: unknown }>,
  ) {
    const lines = failures.map(({ host, error }) => `  ${host}: ${describe(error)}`);
    super(`${phase}: failed on ${failures.length} host${failures.length === 1 ? '' : 's'}:\n${lines.join('\n')}`);
  }
}

/** The Kubernetes API refused or failed a request. */
export class ApiError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly server: string,
    readonly status: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`kube-apiserver ${server}: ${status ? `${status} ` : ''}${message}`, options);
  }
}

/** Bootstrap-token discovery failed, saying which check failed, before anything is written. */
export type DiscoveryFailure = 'unreachable' | 'no-signature' | 'bad-signature' | 'ca-hash-mismatch' | 'unpinned-ca' | 'token-rejected' | 'content-changed' | 'malformed';

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

/** A restart or health gate failed during a roll-out; the host's old files were put back. */
export class RolloutError extends KbuildError {
  readonly exitCode = ExitCode.failed;
  constructor(
    readonly host: string,
    readonly pod: string,
    readonly lastError: string,
    readonly backupDir: string,
    /** "recovered", or what loading the restored files saw. */
    readonly afterRestore: string,
    /** How the pod loaded the restored files: "restarted", or "serves them again" (etcd, per handshake). */
    loadedAgain = 'restarted',
  ) {
    super(
      `${host}: ${pod} did not come back healthy with the new certificates: ${lastError}. ` +
        `The previous files were restored from ${backupDir} on ${host} and ${pod} ${loadedAgain} ` +
        `(${afterRestore === 'recovered' ? 'it is healthy again' : `still unhealthy: ${afterRestore}`}). ` +
        'The roll-out stopped here; hosts after this one were not touched. Fix the cause and run the command again.',
    );
  }
}

/** Certificates expire within the asked window, or served certificates differ from the files. */
export class CertificateAttentionError extends KbuildError {
  readonly exitCode = ExitCode.certificateAttention;
}

export function describe(error: unknown): string {
  if (error instanceof ConnectionError || error instanceof RemoteCommandError || error instanceof HealthGateError) {
    // These already name the host; strip it so per-host lists do not repeat it.
    const host = (error as { host: string }).host;
    return error.message.startsWith(`${host}: `) ? error.message.slice(host.length + 2) : error.message;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}
