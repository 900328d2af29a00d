/**
 * k8s.io/apimachinery's duration.ShortHumanDuration, which kubeadm prints for certificate residual
 * time and token TTLs: 45s, 12m, 5h, 364d, 9y; up to a second in the past still reads "0s"
 * (clock skew), earlier is "<invalid>".
 */
export function shortHumanDuration(seconds: number): string {
  const s = Math.trunc(seconds);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60) return `${s}s`;
  const minutes = Math.trunc(s / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}
