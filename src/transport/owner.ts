/** `user:group` owner strings as WriteOptions carry them. */

/**
 * Numeric ids for an owner string, from numeric parts or the given name table (root is 0);
 * undefined when a name is not in the table.
 */
export function ownerIds(owner: string, names: Readonly<Record<string, number>> = { root: 0 }): { uid: number; gid: number } | undefined {
  const [user, group] = owner.split(':');
  const id = (part: string | undefined): number | undefined =>
    part === undefined || part === '' ? undefined : /^\d+$/.test(part) ? Number(part) : names[part];
  const uid = id(user);
  const gid = id(group ?? user);
  return uid !== undefined && gid !== undefined ? { uid, gid } : undefined;
}
