/**
 * Layer rules (docs/architecture.md, "Layers"): the cores (diagnosis, alerts, incidents, prevention) are pure; fixes and use cases
 * reach the world through ports; only slack/ builds messages; vendor SDKs live in adapters and transport; the
 * simulator is a package of its own that the bot never imports at run time.
 */
const SDKS =
  '^node_modules/(@slack/bolt|@slack/web-api|@google-cloud|@kubernetes|@grpc|google-auth-library|google-gax|pino|prom-client|ws)';
const NODE_IO =
  '^(fs|net|http|https|child_process|dgram|tls|node:fs|node:fs/promises|node:net|node:http|node:https|node:child_process|node:dgram|node:tls)$';
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
      name: 'cores-do-no-io',
      comment: 'The pure cores use no Node I/O module.',
      severity: 'error',
      from: { path: ['^src/diagnosis/', '^src/alerts/', '^src/incidents/', '^src/prevention/'] },
      to: { dependencyTypes: ['core'], path: NODE_IO },
    },
    {
      name: 'alerts-are-pure',
      comment:
        'Alert parsing is pure: it may use the diagnosis core (the classifier), nothing else. Transport is above.',
      severity: 'error',
      from: { path: '^src/alerts/' },
      to: { pathNot: ['^src/alerts/', '^src/diagnosis/'], dependencyTypesNot: ['type-only', 'core'] },
    },
    {
      name: 'incidents-are-pure',
      comment: 'The incident model and its merge and plan rules depend only on the diagnosis core.',
      severity: 'error',
      from: { path: '^src/incidents/' },
      to: { pathNot: ['^src/incidents/', '^src/diagnosis/'], dependencyTypesNot: ['type-only', 'core'] },
    },
    {
      name: 'prevention-is-pure',
      comment:
        'The pull audit logic (which pools can schedule what, crossing images with pools, grouping gaps, the summary) is pure: it depends only on the diagnosis core. Its reads are in usecases/pull-audit.ts.',
      severity: 'error',
      from: { path: '^src/prevention/' },
      to: { pathNot: ['^src/prevention/', '^src/diagnosis/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'fixes-through-ports',
      comment: 'Fixes and their runner reach the world through ports only, never an adapter, a use case or Slack.',
      severity: 'error',
      from: { path: '^src/fixes/' },
      to: { path: ['^src/adapters/', '^src/slack/', '^src/usecases/', '^src/transport/', SDKS] },
    },
    {
      name: 'no-slack-below-slack',
      comment: 'Use cases, incidents and fixes emit state and audit records; only slack/ turns them into messages.',
      severity: 'error',
      from: { path: ['^src/usecases/', '^src/incidents/', '^src/fixes/'] },
      to: { path: ['^src/slack/', '^node_modules/@slack/'] },
    },
    {
      name: 'transport-above-use-cases',
      comment: 'Transport (Pub/Sub pull, push and health routes) calls the use cases; nothing below calls transport.',
      severity: 'error',
      from: {
        path: [
          '^src/usecases/',
          '^src/alerts/',
          '^src/incidents/',
          '^src/fixes/',
          '^src/diagnosis/',
          '^src/prevention/',
        ],
      },
      to: { path: '^src/transport/' },
    },
    {
      name: 'sdks-only-in-adapters',
      comment:
        'Vendor SDKs are imported only by adapters, transport, the Slack app and listeners, the root and the CLI.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '^src/adapters/',
          '^src/transport/',
          '^src/slack/app\\.ts$',
          '^src/slack/guarded-receiver\\.ts$',
          '^src/slack/listeners/',
          '^src/main\\.ts$',
          '^src/shared/(logger|metrics)\\.ts$',
          '^src/cli/',
        ],
      },
      to: { path: SDKS, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'renderers-are-pure',
      comment: 'Block Kit renderers and the HTML preview are pure functions of the model.',
      severity: 'error',
      from: { path: ['^src/slack/blocks/', '^src/slack/preview/'] },
      to: {
        path: ['^src/adapters/', '^src/usecases/', '^src/slack/listeners/', '^node_modules/@slack/(bolt|web-api)'],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'renderers-do-no-io',
      severity: 'error',
      from: { path: ['^src/slack/blocks/', '^src/slack/preview/'] },
      to: { dependencyTypes: ['core'], path: NODE_IO },
    },
    {
      name: 'listeners-use-use-cases',
      severity: 'error',
      from: { path: '^src/slack/listeners/' },
      to: { path: ['^src/adapters/', '^src/fixes/(runner|run-execution)\\.ts$'] },
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
