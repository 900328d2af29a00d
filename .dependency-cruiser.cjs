/**
 * Which folder of src/ may import which (`npm run lint` runs it): the layers of DEVELOPERS.md's
 * layout table, lowest first. A folder imports only from folders of a lower layer or its own; no
 * import circle anywhere. Adding a folder means adding it here, in its layer.
 */
const LAYERS = [
  ['errors', 'util'],
  ['kubeadm', 'net', 'templates'],
  ['config', 'kubeconfig'],
  ['transport'],
  ['pki', 'health', 'report'],
  ['kube', 'workflow', 'preflight'],
  ['render', 'static-pods'],
  ['state'],
  ['operations'],
  ['commands'],
  ['cli.ts', 'threadpool.ts'],
];

const path = (name) => `^src/${name.replace('.', '\\.')}${name.endsWith('.ts') ? '$' : '/'}`;
const higher = (index) => LAYERS.slice(index + 1).flat();

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import circle: data flows one way.', from: {}, to: { circular: true } },
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'A folder of src/ not in .dependency-cruiser.cjs: add it to its layer (and to DEVELOPERS.md).',
      from: { path: '^src/', pathNot: LAYERS.flat().map(path) },
      to: {},
    },
    ...LAYERS.flatMap((layer, index) =>
      higher(index).length === 0
        ? []
        : layer.map((name) => ({
            name: `layer-${name}`,
            severity: 'error',
            comment: `src/${name} may not import a higher layer (DEVELOPERS.md, Layout).`,
            from: { path: path(name) },
            to: { path: higher(index).map(path) },
          })),
    ),
    {
      name: 'operations-apart',
      severity: 'error',
      comment: 'An operation does not import another; what two share lives in src/operations/*.ts or a lower layer. render/ writes PLAN.md from the apply phase tree.',
      from: { path: '^src/operations/([^/]+)/' },
      to: { path: '^src/operations/[^/]+/', pathNot: ['^src/operations/$1/', '^src/operations/apply/(plan|phases|context)\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
