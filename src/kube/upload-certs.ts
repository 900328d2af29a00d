/**
 * kubeadm's upload-certs (phases/copycerts, util/crypto): the shared CA keys travel to joining
 * control planes in Secret kube-system/kubeadm-certs, each file AES-256-GCM encrypted under the
 * 32-byte certificate key (hex on the command line), stored as nonce(12) ‖ ciphertext ‖ tag(16).
 * Data keys are the pki file names with "/" replaced by "-" (etcd/ca.crt → etcd-ca.crt). The Secret
 * is owned by a 2h bootstrap token, so Kubernetes deletes it when that token expires.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { V1OwnerReference, V1Role, V1RoleBinding, V1Secret } from '@kubernetes/client-node';
import { StateError, UsageError } from '../errors/index.js';
import { caCertHash } from '../pki/ca-hash.js';
import type { ApiClient } from './client.js';
import { RBAC_GROUP } from './rbac.js';
import { BOOTSTRAP_GROUP } from '../kubeadm/constants.js';

export const CERTS_SECRET = 'kubeadm-certs';
export const CERTS_ROLE = 'kubeadm:kubeadm-certs';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The pki files (relative to /etc/kubernetes/pki) that travel: the CA keys, and etcd's CA key (stacked) or its client certificate (external). */
export function sharedCertFiles(stackedEtcd: boolean): string[] {
  const shared = ['ca.crt', 'ca.key', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'sa.pub', 'sa.key'];
  // External etcd: control planes hold no etcd CA key, so they share the apiserver's etcd client certificate, as kubeadm does.
  return [...shared, ...(stackedEtcd ? ['etcd/ca.crt', 'etcd/ca.key'] : ['etcd/ca.crt', 'apiserver-etcd-client.crt', 'apiserver-etcd-client.key'])];
}

export const secretKeyName = (file: string): string => file.replaceAll('/', '-');

export const newCertificateKey = (bytes: (n: number) => Buffer = randomBytes): string => bytes(32).toString('hex');

export function decodeCertificateKey(hex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new UsageError('--certificate-key must be 64 hexadecimal characters (32 bytes), as printed by `kbuild init --upload-certs`');
  return Buffer.from(hex, 'hex');
}

export function encryptBytes(data: Buffer, key: Buffer, nonce: Buffer = randomBytes(NONCE_BYTES)): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
}

export function decryptBytes(data: Buffer, key: Buffer): Buffer {
  if (data.length < NONCE_BYTES + TAG_BYTES) throw new Error('size of data is less than the nonce and tag');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE_BYTES));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  return Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
}

/** The Secret, given the files' contents by pki-relative name; missing files travel empty, as kubeadm. */
export function certsSecret(files: ReadonlyMap<string, Buffer | undefined>, key: Buffer, owner: V1OwnerReference): V1Secret {
  const data: Record<string, string> = {};
  for (const [name, content] of files) data[secretKeyName(name)] = content === undefined ? '' : encryptBytes(content, key).toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name: CERTS_SECRET, namespace: 'kube-system', ownerReferences: [owner] }, type: 'Opaque', data };
}

/** Decrypts every entry; a wrong key fails on the first entry (GCM authentication), never half-way. */
export function decryptCertsSecret(secret: V1Secret, key: Buffer, files: readonly string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const file of files) {
    const value = secret.data?.[secretKeyName(file)];
    if (value === undefined) throw new StateError(`Secret kube-system/${CERTS_SECRET} lacks ${secretKeyName(file)}; run \`kbuild init phase upload-certs --upload-certs\` on a control plane`);
    if (value === '') continue;
    try {
      out.set(file, decryptBytes(Buffer.from(value, 'base64'), key));
    } catch (error) {
      throw new StateError(`cannot decrypt ${secretKeyName(file)} in kube-system/${CERTS_SECRET} with the given --certificate-key (wrong key, or the certificates were uploaded again with a new one)`, { cause: error });
    }
  }
  return out;
}

/** metav1.NewControllerRef(tokenSecret, v1/Secret). */
export const ownerReferenceTo = (secret: V1Secret): V1OwnerReference => ({
  apiVersion: 'v1',
  kind: 'Secret',
  name: secret.metadata?.name ?? '',
  uid: secret.metadata?.uid ?? '',
  controller: true,
  blockOwnerDeletion: true,
});

/** Lets bootstrapping nodes read the Secret (they still need the key to use it). */
export function certsRbac(): [V1Role, V1RoleBinding] {
  const rbac = RBAC_GROUP;
  return [
    { apiVersion: `${rbac}/v1`, kind: 'Role', metadata: { name: CERTS_ROLE, namespace: 'kube-system' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['secrets'], resourceNames: [CERTS_SECRET] }] },
    {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: CERTS_ROLE, namespace: 'kube-system' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: CERTS_ROLE },
      subjects: [{ kind: 'Group', name: BOOTSTRAP_GROUP }],
    },
  ];
}

/** The shared certificates from kubeadm-certs, decrypted with the key; the CA must be the one discovery pinned. */
export async function downloadSharedCerts(api: ApiClient, stackedEtcd: boolean, certificateKey: string, caCertPem: string): Promise<Map<string, Buffer>> {
  const key = decodeCertificateKey(certificateKey);
  const secret = (await api.read('v1', 'Secret', 'kube-system', CERTS_SECRET));
  if (!secret) throw new StateError(`Secret kube-system/${CERTS_SECRET} does not exist (it is deleted with its token after 2 h): run \`kbuild init phase upload-certs --upload-certs\` on a control plane and use the key it prints`);
  const files = decryptCertsSecret(secret, key, sharedCertFiles(stackedEtcd));
  const ca = files.get('ca.crt')?.toString();
  if (!ca || caCertHash(ca) !== caCertHash(caCertPem)) {
    throw new StateError(`the CA in kube-system/${CERTS_SECRET} is not the cluster CA that discovery pinned; the certificates were uploaded from another cluster`);
  }
  return files;
}
