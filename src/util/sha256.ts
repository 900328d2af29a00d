/** The hex SHA-256 every content comparison uses (the same form `sha256sum` prints on hosts). */
import { createHash } from 'node:crypto';

export const sha256Hex = (content: string | Buffer): string => createHash('sha256').update(content).digest('hex');
