import type { Config } from '../../config.ts';
import type { SubscriptionReader } from '../../ports/pubsub.port.ts';
import { errorMessage, ReadError } from '../../shared/errors.ts';
import { SUBSCRIPTION_PERMISSIONS } from '../bot-permissions.ts';
import type { DoctorItem } from './item.ts';

/**
 * The Pub/Sub items: PUBSUB_SUBSCRIPTION exists and the bot may pull it (testIamPermissions), each with the gcloud
 * command that creates it or grants the role. Skipped when pull intake is off or the emulator has no IAM.
 */
export async function subscriptionChecks(
  config: Config,
  subs: SubscriptionReader | undefined,
  sa: string,
): Promise<DoctorItem[]> {
  const name = config.pubsubSubscription;
  if (!name || !subs) {
    return [
      {
        id: 'pubsub.subscription',
        status: 'skip',
        title: 'Pub/Sub subscription exists',
        detail: `PUBSUB_SUBSCRIPTION is not set: alert intake by pull is off${config.pubsubPush ? ' (push intake is on)' : ''}; /imagepull still works`,
      },
    ];
  }
  const [, project = 'PROJECT', , id = 'SUBSCRIPTION'] = name.split('/');
  const grant = (role: string) =>
    `gcloud pubsub subscriptions add-iam-policy-binding ${id} --project=${project} --role=${role} --member=serviceAccount:${sa}`;
  const items: DoctorItem[] = [];
  let getRefused = false;
  try {
    const topic = await subs.topicOf(name);
    items.push({
      id: 'pubsub.subscription',
      status: 'pass',
      title: 'Pub/Sub subscription exists',
      subject: name,
      detail: `${name} (topic ${topic})`,
    });
  } catch (e) {
    const code = e instanceof ReadError ? e.code : 'failed';
    getRefused = code === 'permission-denied';
    items.push({
      id: 'pubsub.subscription',
      status: 'fail',
      title: 'Pub/Sub subscription exists',
      subject: name,
      detail: errorMessage(e),
      fix:
        code === 'not-found'
          ? [
              `create it (deploy/gcp/setup.sh does): gcloud pubsub subscriptions create ${id} --project=${project} --topic=gke-image-pull --ack-deadline=30 --dead-letter-topic=gke-image-pull-dead --max-delivery-attempts=10 --expiration-period=never`,
              `or set PUBSUB_SUBSCRIPTION to an existing one (gcloud pubsub subscriptions list --project=${project})`,
            ]
          : code === 'permission-denied'
            ? [`the readiness check (/readyz) reads the subscription: ${grant('roles/pubsub.viewer')}`]
            : [
                `Pub/Sub did not answer (${code}): let the bot reach pubsub.googleapis.com, then run imagepull doctor again`,
              ],
    });
  }
  try {
    const granted = await subs.testPermissions(name, SUBSCRIPTION_PERMISSIONS);
    if (granted === undefined) {
      items.push({
        id: 'pubsub.permissions',
        status: 'skip',
        title: 'Pub/Sub subscription can be pulled',
        subject: name,
        detail: 'the Pub/Sub emulator has no IAM: pubsub.subscriptions.consume not checked',
      });
    } else {
      // A `get` already refused above is reported there, with its fix.
      const missing = SUBSCRIPTION_PERMISSIONS.filter(
        (p) => !granted.includes(p) && !(getRefused && p === 'pubsub.subscriptions.get'),
      );
      items.push(
        missing.length === 0
          ? {
              id: 'pubsub.permissions',
              status: 'pass',
              title: 'Pub/Sub subscription can be pulled',
              subject: name,
              detail: SUBSCRIPTION_PERMISSIONS.join(', '),
            }
          : {
              id: 'pubsub.permissions',
              status: 'fail',
              title: 'Pub/Sub subscription can be pulled',
              subject: name,
              detail: `the bot lacks ${missing.join(', ')} on ${name}`,
              fix: [
                ...(missing.includes('pubsub.subscriptions.consume') ? [grant('roles/pubsub.subscriber')] : []),
                ...(missing.includes('pubsub.subscriptions.get')
                  ? [`the readiness check (/readyz) reads the subscription: ${grant('roles/pubsub.viewer')}`]
                  : []),
              ],
            },
      );
    }
  } catch (e) {
    items.push({
      id: 'pubsub.permissions',
      status: 'fail',
      title: 'Pub/Sub subscription can be pulled',
      subject: name,
      detail: errorMessage(e),
      fix: [
        'Pub/Sub did not answer testIamPermissions: let the bot reach pubsub.googleapis.com, then run imagepull doctor again',
      ],
    });
  }
  return items;
}
