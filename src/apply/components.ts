/**
 * Which phase pushes which rendered file. Every file must belong to exactly one component
 * (a test checks this for every example), so nothing rendered is silently left behind.
 */
import type { RenderedFile } from '../render/types.js';

export const COMPONENTS = ['etcd', 'kubelet', 'apiserver', 'controller-manager', 'scheduler', 'load-balancer', 'pod-network', 'addons'] as const;
export type Component = (typeof COMPONENTS)[number];

const RULES: ReadonlyArray<[Component, RegExp]> = [
  ['etcd', /^\/etc\/kubernetes\/(pki\/etcd\/|manifests\/etcd\.yaml$)/],
  ['kubelet', /^(\/var\/lib\/kubelet\/|\/etc\/systemd\/system\/kubelet\.service\.d\/|\/etc\/kubernetes\/(kubelet|bootstrap-kubelet)\.conf$|\/etc\/kubernetes\/pki\/ca\.crt$)/],
  ['controller-manager', /^\/etc\/kubernetes\/(controller-manager\.conf|manifests\/kube-controller-manager\.yaml)$/],
  ['scheduler', /^\/etc\/kubernetes\/(scheduler\.conf|manifests\/kube-scheduler\.yaml)$/],
  ['load-balancer', /^(\/etc\/haproxy\/|\/etc\/keepalived\/|\/etc\/kubernetes\/manifests\/(haproxy|keepalived)\.yaml$)/],
  ['addons', /^\/etc\/kubernetes\/addons\//],
  ['pod-network', /^(\/etc\/cni\/net\.d\/10-kbuild\.conflist|\/etc\/kubernetes\/kbuild-pod-network\.sh)$/],
  ['apiserver', /^\/etc\/kubernetes\/(pki\/|manifests\/kube-apiserver\.yaml$|(admin|super-admin)\.conf$)/],
];

export function componentOf(path: string): Component | undefined {
  return RULES.find(([, pattern]) => pattern.test(path))?.[0];
}

export function filesOf(files: readonly RenderedFile[], component: Component): RenderedFile[] {
  return files.filter((f) => componentOf(f.path) === component);
}
