// Reading static pod manifests the way the kubelet does, as far as the stand-in needs: the first
// container's command and args, its volume mounts, and the value of a `--flag`.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

export function contentHash(text) {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Parses a manifest; throws with the file name when it is not a Pod with a container. */
export function readPod(file) {
  const text = readFileSync(file, 'utf8');
  const pod = yaml.load(text);
  const container = pod?.spec?.containers?.[0];
  if (pod?.kind !== 'Pod' || !container) throw new Error(`${file}: not a Pod with a container`);
  return { text, hash: contentHash(text), pod, container };
}

/**
 * argv of the container with each path under a volume's mountPath mapped to its hostPath, as the
 * container would see the host's files. For kbuild's control plane the mounts are identity.
 */
export function containerArgv(pod, container) {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  const hostPaths = new Map((pod.spec.volumes ?? []).filter((v) => v.hostPath).map((v) => [v.name, v.hostPath.path]));
  const mounts = (container.volumeMounts ?? [])
    .map((m) => ({ mountPath: m.mountPath, hostPath: hostPaths.get(m.name) }))
    .filter((m) => m.hostPath !== undefined && m.mountPath !== m.hostPath)
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  const mapPath = (path) => {
    const mount = mounts.find((m) => path === m.mountPath || path.startsWith(`${m.mountPath}/`));
    return mount ? mount.hostPath + path.slice(mount.mountPath.length) : path;
  };
  return argv.map((arg) => {
    const match = /^(--[^=]+=)(\/.*)$/.exec(arg);
    if (match) return match[1] + match[2].split(',').map(mapPath).join(',');
    return arg.startsWith('/') ? mapPath(arg) : arg;
  });
}

/** The value of `--name=value` or `--name value`; the last one wins, as with Go's flag package. */
export function flag(argv, name) {
  let value;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith(`--${name}=`)) value = argv[i].slice(name.length + 3);
    else if (argv[i] === `--${name}` && i + 1 < argv.length) value = argv[i + 1];
  }
  return value;
}

export function requireFlag(argv, name, file) {
  const value = flag(argv, name);
  if (value === undefined || value === '') throw new Error(`${file}: the command has no --${name}`);
  return value;
}
