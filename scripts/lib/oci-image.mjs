// Packs files into a single-layer OCI image archive that `ctr -n k8s.io images import` takes,
// named by the annotation containerd reads (io.containerd.image.name). The layer is an
// uncompressed tar made by GNU tar with fixed owners and times, so the same files give the same
// digest; the test lab imports these instead of pulling from a registry it cannot reach.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** @param {string[]} argv */
function run(argv) {
  const [command = '', ...args] = argv;
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`\`${argv.join(' ')}\` exited ${result.status ?? result.signal}: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n')}`);
  return result.stdout;
}

/** @param {Buffer | string} data */
const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/**
 * @typedef {{ path: string, from?: string, content?: string, linkTo?: string, mode?: number }} ImageFile
 *   `path` inside the image; exactly one of `from` (a file to copy), `content` or `linkTo` (a symlink).
 * @typedef {{ entrypoint?: string[], cmd?: string[], user?: string, env?: string[] }} ImageConfig
 */

/**
 * Writes `archive` (an OCI image layout in one tar) holding `files` as one layer, named `reference`
 * (e.g. registry.k8s.io/kube-apiserver:v1.32.4). Atomic: a temp file renamed into place.
 * @param {{ reference: string, files: ImageFile[], config?: ImageConfig, archive: string }} image
 */
export function writeImageArchive({ reference, files, config = {}, archive }) {
  const work = mkdtempSync(join(dirname(archive), '.oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const file of files) {
      const target = join(rootfs, file.path);
      mkdirSync(dirname(target), { recursive: true });
      if (file.linkTo !== undefined) symlinkSync(file.linkTo, target);
      else if (file.from !== undefined) copyFileSync(file.from, target);
      else writeFileSync(target, file.content ?? '');
      if (file.linkTo === undefined) chmodSync(target, file.mode ?? (file.from ? statSync(file.from).mode & 0o777 : 0o644));
    }
    const layerFile = join(work, 'layer.tar');
    run(['tar', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfs, '-cf', layerFile, '.']);
    const layer = readFileSync(layerFile);
    const layerDigest = sha256(layer);

    const imageConfig = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: config.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(config.entrypoint ? { Entrypoint: config.entrypoint } : {}),
        ...(config.cmd ? { Cmd: config.cmd } : {}),
        ...(config.user ? { User: config.user } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha256(imageConfig)}`, size: Buffer.byteLength(imageConfig) },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
    });
    const tag = reference.slice(reference.lastIndexOf(':') + 1);
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: Buffer.byteLength(manifest),
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    });

    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    renameSync(layerFile, join(blobs, layerDigest));
    writeFileSync(join(blobs, sha256(imageConfig)), imageConfig);
    writeFileSync(join(blobs, sha256(manifest)), manifest);
    writeFileSync(join(layout, 'index.json'), index);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const temp = join(work, 'image.tar');
    run(['tar', '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-C', layout, '-cf', temp, '.']);
    renameSync(temp, archive);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
