/** YAML as kubeadm writes it: objects dumped with sorted keys (its JSON→YAML serialisation), no line wrapping, no anchors. */
import yaml from 'js-yaml';

export function toYaml(value: unknown): string {
  return yaml.dump(value, { sortKeys: true, lineWidth: -1, noRefs: true });
}
