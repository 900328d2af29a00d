/** kubeadm's ArgumentsToCommand: defaults overridden by name, rendered `--name=value`, sorted by name then value. */

export interface Arg {
  name: string;
  value: string;
}

export function argsFromRecord(record: Readonly<Record<string, string>>): Arg[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

/** Every default whose name appears in `extra` is dropped; extra args may repeat a name. */
export function mergeArgs(defaults: readonly Arg[], extra: readonly Arg[]): Arg[] {
  const overridden = new Set(extra.map((a) => a.name));
  return [...defaults.filter((a) => !overridden.has(a.name)), ...extra];
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function argumentsToCommand(defaults: readonly Arg[], extra: readonly Arg[]): string[] {
  return mergeArgs(defaults, extra)
    .sort((a, b) => compare(a.name, b.name) || compare(a.value, b.value))
    .map((a) => `--${a.name}=${a.value}`);
}
