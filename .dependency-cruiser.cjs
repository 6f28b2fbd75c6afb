/**
 * Layer check (issue 12, docs/architecture.md "Layers"): run with `npm run test:deps`.
 * Layers, lowest first: machine → kernel → scenario → engine → workers → history → cli / ui.
 * A module imports only from its own layer or below, types included (tsPreCompilationDeps),
 * so a type-only import the compiler erases still counts. cli and ui are side by side and
 * may not import each other. bench/ may import src/, never the other way round.
 */
const LAYERS = ['machine', 'kernel', 'scenario', 'engine', 'workers', 'history'];
const TOP = ['cli', 'ui'];

const dir = (names) => `^src/(${names.join('|')})/`;

/** One rule per layer: nothing above it. */
const layerRules = LAYERS.map((layer, i) => ({
  name: `${layer}-imports-upward`,
  comment: `src/${layer}/ may import only from ${LAYERS.slice(0, i).join(', ') || 'no other layer'} (layers: ${[...LAYERS, 'cli / ui'].join(' → ')})`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: dir([...LAYERS.slice(i + 1), ...TOP]) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...TOP.map((top) => ({
      name: `${top}-imports-${TOP.filter((t) => t !== top)[0]}`,
      comment: 'cli and ui are both top layers: neither may import the other',
      severity: 'error',
      from: { path: `^src/${top}/` },
      to: { path: dir(TOP.filter((t) => t !== top)) },
    })),
    {
      name: 'src-imports-bench',
      comment: 'benchmarks and their fixtures live in bench/ and use src/; the product never imports them',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^bench/' },
    },
    {
      name: 'outside-the-layers',
      comment: `every directory under src/ is a layer (${[...LAYERS, ...TOP].join(', ')}): add a new one to .dependency-cruiser.cjs and docs/architecture.md`,
      severity: 'error',
      from: { path: '^src/', pathNot: dir([...LAYERS, ...TOP]) },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import the check cannot resolve cannot be checked',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
