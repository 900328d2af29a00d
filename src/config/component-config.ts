/**
 * The component configurations a cluster file may customise, as kubeadm takes extra
 * KubeletConfiguration and KubeProxyConfiguration documents: their top-level fields (from
 * k8s.io/kubelet config/v1beta1 and k8s.io/kube-proxy config/v1alpha1 at v1.32), so a misspelt
 * field is an error with a suggestion instead of a setting the component silently ignores.
 */
export const KUBELET_CONFIGURATION_FIELDS = [
  'enableServer', 'staticPodPath', 'podLogsDir', 'syncFrequency', 'fileCheckFrequency', 'httpCheckFrequency', 'staticPodURL', 'staticPodURLHeader', 'address', 'port',
  'readOnlyPort', 'tlsCertFile', 'tlsPrivateKeyFile', 'tlsCipherSuites', 'tlsMinVersion', 'rotateCertificates', 'serverTLSBootstrap', 'authentication', 'authorization',
  'registryPullQPS', 'registryBurst', 'eventRecordQPS', 'eventBurst', 'enableDebuggingHandlers', 'enableContentionProfiling', 'healthzPort', 'healthzBindAddress', 'oomScoreAdj',
  'clusterDomain', 'clusterDNS', 'streamingConnectionIdleTimeout', 'nodeStatusUpdateFrequency', 'nodeStatusReportFrequency', 'nodeLeaseDurationSeconds', 'imageMinimumGCAge',
  'imageMaximumGCAge', 'imageGCHighThresholdPercent', 'imageGCLowThresholdPercent', 'volumeStatsAggPeriod', 'kubeletCgroups', 'systemCgroups', 'cgroupRoot', 'cgroupsPerQOS',
  'cgroupDriver', 'cpuManagerPolicy', 'singleProcessOOMKill', 'cpuManagerPolicyOptions', 'cpuManagerReconcilePeriod', 'memoryManagerPolicy', 'topologyManagerPolicy',
  'topologyManagerScope', 'topologyManagerPolicyOptions', 'qosReserved', 'runtimeRequestTimeout', 'hairpinMode', 'maxPods', 'podCIDR', 'podPidsLimit', 'resolvConf', 'runOnce',
  'cpuCFSQuota', 'cpuCFSQuotaPeriod', 'nodeStatusMaxImages', 'maxOpenFiles', 'contentType', 'kubeAPIQPS', 'kubeAPIBurst', 'serializeImagePulls', 'maxParallelImagePulls',
  'evictionHard', 'evictionSoft', 'evictionSoftGracePeriod', 'evictionPressureTransitionPeriod', 'evictionMaxPodGracePeriod', 'evictionMinimumReclaim', 'podsPerCore',
  'enableControllerAttachDetach', 'protectKernelDefaults', 'makeIPTablesUtilChains', 'iptablesMasqueradeBit', 'iptablesDropBit', 'featureGates', 'failSwapOn', 'memorySwap',
  'containerLogMaxSize', 'containerLogMaxFiles', 'containerLogMaxWorkers', 'containerLogMonitorInterval', 'configMapAndSecretChangeDetectionStrategy', 'systemReserved',
  'kubeReserved', 'reservedSystemCPUs', 'showHiddenMetricsForVersion', 'systemReservedCgroup', 'kubeReservedCgroup', 'enforceNodeAllocatable', 'allowedUnsafeSysctls',
  'volumePluginDir', 'providerID', 'kernelMemcgNotification', 'logging', 'enableSystemLogHandler', 'enableSystemLogQuery', 'shutdownGracePeriod',
  'shutdownGracePeriodCriticalPods', 'shutdownGracePeriodByPodPriority', 'crashLoopBackOff', 'reservedMemory', 'enableProfilingHandler', 'enableDebugFlagsHandler',
  'seccompDefault', 'memoryThrottlingFactor', 'registerWithTaints', 'registerNode', 'tracing', 'localStorageCapacityIsolation', 'containerRuntimeEndpoint',
  'imageServiceEndpoint', 'failCgroupV1',
] as const;

export const KUBE_PROXY_CONFIGURATION_FIELDS = [
  'featureGates', 'clientConnection', 'logging', 'hostnameOverride', 'bindAddress', 'healthzBindAddress', 'metricsBindAddress', 'bindAddressHardFail', 'enableProfiling',
  'showHiddenMetricsForVersion', 'mode', 'iptables', 'ipvs', 'nftables', 'winkernel', 'detectLocalMode', 'detectLocal', 'clusterCIDR', 'nodePortAddresses', 'oomScoreAdj',
  'conntrack', 'configSyncPeriod', 'portRange', 'windowsRunAsService',
] as const;

type Json = unknown;
const isMapping = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `override` over `base`: mappings merge field by field, anything else (lists included) replaces — as kubeadm's documents do. */
export function mergeConfiguration(base: Record<string, Json>, override: Record<string, Json>): Record<string, Json> {
  const merged: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const earlier = merged[key];
    merged[key] = isMapping(earlier) && isMapping(value) ? mergeConfiguration(earlier, value) : value;
  }
  return merged;
}
