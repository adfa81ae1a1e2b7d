import type { App } from '@slack/bolt';
import { investigationBlocks, investigationText, usageBlocks } from '../../blocks/command.blocks.ts';
import { statusBlocks } from '../../blocks/home.blocks.ts';
import { auditRunBlocks, auditRunText } from '../../blocks/prevention.blocks.ts';
import { parseCommand, USAGE } from '../../command.ts';
import { COMMAND } from '../../ids.ts';
import type { ListenerDeps } from '../deps.ts';
import { tell } from '../reply.ts';

/** `/imagepull`: usage on bad input, a "diagnosing…" ack within Slack's 3 seconds, then the answer. */
export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command(COMMAND, async ({ command, ack, respond }) => {
    const parsed = parseCommand(command.text);
    switch (parsed.kind) {
      case 'error':
        await ack({ response_type: 'ephemeral', text: `${parsed.error}\n${USAGE}`, blocks: usageBlocks(parsed.error) });
        return;
      case 'help':
        await ack({ response_type: 'ephemeral', text: USAGE, blocks: usageBlocks() });
        return;
      case 'status': {
        await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Checking incidents and permissions…' });
        const model = await deps.status();
        await tell(respond, deps.logger, `${model.incidents.length} incident(s)`, statusBlocks(model), true);
        return;
      }
      case 'audit': {
        const target = parsed.cluster
          ? { clusters: [parsed.cluster] }
          : parsed.project
            ? { projects: [parsed.project] }
            : undefined;
        if (!target && !deps.prevention.configured) {
          const error =
            'Which cluster? Add `--cluster PROJECT/LOCATION/CLUSTER` or `--project PROJECT` (or set AUDIT_CLUSTERS or DEFAULT_CLUSTER for the bot).';
          await ack({ response_type: 'ephemeral', text: error, blocks: usageBlocks(error) });
          return;
        }
        await ack({
          response_type: 'ephemeral',
          text: ':mag: Auditing: every image in use × every node pool that can schedule it…',
        });
        try {
          const run = await deps.prevention.run('command', target ? { target } : {});
          await tell(respond, deps.logger, auditRunText(run), auditRunBlocks(run), true);
        } catch (e) {
          deps.logger.error({ err: e }, 'audit command failed');
          await tell(
            respond,
            deps.logger,
            `Audit failed: ${e instanceof Error ? e.message : String(e)}`,
            undefined,
            true,
          );
        }
        return;
      }
      case 'diagnose': {
        const what = parsed.pod
          ? `${parsed.namespace}/${parsed.pod}`
          : parsed.workload
            ? `${parsed.workload.namespace}/${parsed.workload.kind.toLowerCase()}/${parsed.workload.name}`
            : parsed.image;
        await ack({
          response_type: 'ephemeral',
          text: `:mag: Diagnosing \`${what}\`: reading the cluster, the node pool and IAM…`,
        });
        try {
          const result = await deps.onDemand.diagnose(parsed, command.user_id, command.channel_id);
          if (result.kind === 'error') {
            await tell(respond, deps.logger, result.error, usageBlocks(result.error), true);
            return;
          }
          // The incident may already exist (and live in the incident channel): point at where it is.
          const shared = result.shared[0] ? (result.shared[0].posts?.[0]?.channel ?? command.channel_id) : undefined;
          await tell(
            respond,
            deps.logger,
            investigationText(result.investigation),
            investigationBlocks(result.investigation, shared),
            true,
          );
        } catch (e) {
          deps.logger.error({ err: e }, 'diagnose command failed');
          await tell(
            respond,
            deps.logger,
            `Diagnosis failed: ${e instanceof Error ? e.message : String(e)}`,
            undefined,
            true,
          );
        }
        return;
      }
    }
  });
}
