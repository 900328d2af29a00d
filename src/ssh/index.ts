/** The transport layer: one interface, its implementations and the connection factory. */
export type { CommandResult, FileInfo, RunOptions, Transport, WriteOptions } from './transport.js';
export { connect, CONNECT_DEFAULTS, type ConnectOptions } from './connect.js';
export { LocalTransport } from './local.js';
export { DirectoryTransport, type RecordedAction } from './directory.js';
export { DryRunTransport, readOnlyTransport } from './dry-run.js';
export { FakeTransport, type FakeRule, type FakeCall, type FakeTransportOptions } from './fake.js';
export { ACCEPT_NEW_HOST_KEYS_FLAG } from './known-hosts-file.js';
export { PASSPHRASE_ENV } from './private-key.js';
export { shellQuote } from './quote.js';
