import { describe, expect, test } from 'vitest';
import { parseToken, parseTtl, tokenFromSecret, tokenSecret, tokenTable } from '../../../src/kube/token.js';
import { shortHumanDuration } from '../../../src/util/duration.js';

const decode = (data: Record<string, string> | undefined) => Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));

describe('bootstrap token Secret', () => {
  test('kubeadm keys and type; round trip', () => {
    const token = { id: 'abcdef', secret: '0123456789abcdef', description: 'd', expires: new Date('2030-01-02T03:04:05.678Z'), usages: ['authentication', 'signing'], groups: ['system:bootstrappers:kubeadm:default-node-token'] };
    const secret = tokenSecret(token);
    expect(secret.metadata).toEqual({ name: 'bootstrap-token-abcdef', namespace: 'kube-system' });
    expect(secret.type).toBe('bootstrap.kubernetes.io/token');
    expect(decode(secret.data)).toEqual({
      'token-id': 'abcdef',
      'token-secret': '0123456789abcdef',
      description: 'd',
      expiration: '2030-01-02T03:04:05Z',
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
    });
    expect(tokenFromSecret(secret)).toEqual({ ...token, expires: new Date('2030-01-02T03:04:05Z') });
  });

  test('no description, no expiry, no groups: those keys are absent', () => {
    expect(Object.keys(decode(tokenSecret({ id: 'abcdef', secret: '0123456789abcdef', usages: [], groups: [] }).data)).sort()).toEqual(['token-id', 'token-secret']);
  });

  test('parse: format enforced with an example', () => {
    expect(parseToken('abcdef.0123456789abcdef')).toEqual({ id: 'abcdef', secret: '0123456789abcdef' });
    expect(() => parseToken('ABCDEF.0123456789abcdef')).toThrow(/abcdef\.0123456789abcdef/);
  });

  test('TTL as kubeadm prints it', () => {
    expect(shortHumanDuration(23 * 3600 + 59 * 60)).toBe('23h');
    expect(shortHumanDuration(90)).toBe('1m');
    // apimachinery switches to days at 24h (HumanDuration, not this one, waits until 48h).
    expect(shortHumanDuration(30 * 3600)).toBe('1d');
    expect(shortHumanDuration(3 * 24 * 3600)).toBe('3d');
    expect(shortHumanDuration(-1)).toBe('0s');
    expect(shortHumanDuration(-5)).toBe('<invalid>');
    expect(shortHumanDuration(400 * 24 * 3600)).toBe('1y');
    expect(parseTtl('1h30m')).toBe(5400_000);
    expect(parseTtl('0')).toBe(0);
    expect(() => parseTtl('1d')).toThrow(/not a duration/);
  });

  test('list table', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    const table = tokenTable([{ id: 'abcdef', secret: '0123456789abcdef', expires: new Date('2030-01-02T00:00:00Z'), usages: ['authentication', 'signing'], groups: ['g'], description: 'x' }, { id: 'bbbbbb', secret: 'bbbbbbbbbbbbbbbb', usages: [], groups: [] }], now);
    expect(table.split('\n')).toEqual([
      'TOKEN                     TTL         EXPIRES                USAGES                   DESCRIPTION   EXTRA GROUPS',
      // Exactly 24 hours left: apimachinery's ShortHumanDuration says 1d (a fresh token shows 23h).
      'abcdef.0123456789abcdef   1d          2030-01-02T00:00:00Z   authentication,signing   x             g',
      'bbbbbb.bbbbbbbbbbbbbbbb   <forever>   <never>                <none>                   <none>        <none>',
    ]);
  });
});
