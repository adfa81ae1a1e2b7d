/**
 * Layer rules (STYLE.md, research/aesthetics.md §6.4): the diagnosis core is pure; vendor SDKs live in adapters;
 * renderers are pure; listeners reach use cases, not adapters; the sandbox never imports the code it tests.
 */
const SDKS =
  '^node_modules/(@slack/bolt|@slack/web-api|@google-cloud|@kubernetes|@grpc|google-auth-library|google-gax|pino|ws)';
module.exports = {
  forbidden: [
    {
      name: 'diagnosis-is-pure',
      comment: 'The diagnosis core imports no SDK, no I/O module and nothing outside itself.',
      severity: 'error',
      from: { path: '^src/diagnosis/' },
      to: { pathNot: ['^src/diagnosis/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'diagnosis-no-node-io',
      severity: 'error',
      from: { path: '^src/diagnosis/' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|net|http|https|child_process|dgram|tls|node:fs|node:net|node:http|node:https|node:child_process)$',
      },
    },
    {
      name: 'fixes-guards-are-pure',
      severity: 'error',
      from: { path: '^src/fixes/' },
      to: { path: ['^src/adapters/', '^src/slack/', '^src/usecases/', SDKS], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdks-only-in-adapters',
      comment: 'Vendor SDKs are imported only by adapters, the Slack app, the composition root and the sandbox.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '^src/adapters/',
          '^src/alerts/pubsub-consumer\\.ts$',
          '^src/slack/app\\.ts$',
          '^src/slack/listeners/',
          '^src/main\\.ts$',
          '^src/shared/logger\\.ts$',
          '^src/cli/',
        ],
      },
      to: { path: SDKS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderers-are-pure',
      severity: 'error',
      from: { path: '^src/slack/blocks/' },
      to: {
        path: ['^src/adapters/', '^src/usecases/', '^src/slack/listeners/', '^node_modules/@slack/(bolt|web-api)'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'listeners-use-use-cases',
      severity: 'error',
      from: { path: '^src/slack/listeners/' },
      to: { path: '^src/adapters/' },
    },
    {
      name: 'usecases-not-adapters',
      comment: 'Use cases reach the world through ports only.',
      severity: 'error',
      from: { path: '^src/usecases/' },
      to: { path: ['^src/adapters/', '^src/slack/listeners/', '^packages/'] },
    },
    {
      name: 'sandbox-is-independent',
      comment: 'The simulator must not import the code it is used to test.',
      severity: 'error',
      from: { path: '^packages/sandbox/' },
      to: { path: '^src/' },
    },
    {
      name: 'bot-carries-no-sandbox',
      comment:
        'The bot never imports the simulator at run time: the CLI loads it on demand (src/cli/sandbox-loader.ts), so the build and the image carry none of it.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^packages/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
