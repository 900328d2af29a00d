/** The detached JWS against kubeadm's published vectors and an HMAC computed by hand here. */
import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { computeDetachedSignature, detachedSignatureIsValid } from '../../../src/kube/jws.js';

// k8s.io/cluster-bootstrap/token/jws/jws_test.go
const CONTENT = 'Hello from the other side. I must have called a thousand times.';
const SECRET = 'my voice is my passcode';
const ID = 'joshua';

function byHand(content: string, id: string, secret: string): string {
  const key = Buffer.concat([Buffer.from(secret), Buffer.alloc(Math.max(0, 32 - Buffer.byteLength(secret)))]);
  const header = Buffer.from(`{"alg":"HS256","kid":"${id}"}`).toString('base64url');
  const input = `${header}.${Buffer.from(content).toString('base64url')}`;
  return `${header}..${createHmac('sha256', key).update(input).digest('base64url')}`;
}

describe('detached JWS', () => {
  test.each([
    [CONTENT, SECRET, 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8'],
    ['', SECRET, 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..7Ui1ALizW4jXphVUB7xUqC9vLYLL9RZeOFfVLoB7Tgk'],
    [CONTENT, '', 'eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..UfkqvDGiIFxrMnFseDj9LYJOLNrvjW8aHhF71mvvAs8'],
  ])('kubeadm vector %#', (content, secret, expected) => {
    expect(computeDetachedSignature(content, ID, secret)).toBe(expected);
    expect(byHand(content, ID, secret)).toBe(expected);
  });

  test('a bootstrap token over a kubeconfig equals the hand-computed HMAC; header carries kid', () => {
    const kubeconfig = 'apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n  name: ""\n';
    const sig = computeDetachedSignature(kubeconfig, 'abcdef', '0123456789abcdef');
    expect(sig).toBe(byHand(kubeconfig, 'abcdef', '0123456789abcdef'));
    const [header, payload, mac] = sig.split('.');
    expect(payload).toBe('');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', kid: 'abcdef' });
    expect(Buffer.from(mac!, 'base64url')).toHaveLength(32);
  });

  test('verification: exact match only', () => {
    const sig = computeDetachedSignature(CONTENT, ID, SECRET);
    expect(detachedSignatureIsValid(sig, CONTENT, ID, SECRET)).toBe(true);
    expect(detachedSignatureIsValid(`${sig}foo`, CONTENT, ID, SECRET)).toBe(false);
    expect(detachedSignatureIsValid(sig, `${CONTENT} `, ID, SECRET)).toBe(false);
    expect(detachedSignatureIsValid(sig, CONTENT, 'other', SECRET)).toBe(false);
    expect(detachedSignatureIsValid(sig, CONTENT, ID, 'x')).toBe(false);
  });
});
