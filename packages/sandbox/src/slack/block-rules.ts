/**
 * Block Kit validation as Slack's API does it, so renderer bugs fail in tests the way they would in production.
 *
 * Limits are Slack's published ones (docs.slack.dev Block Kit reference; `@slack/types` block-kit typings;
 * Slack's Block Kit reference). Messages are the same shape Slack answers: `invalid_blocks` plus one line per problem
 * ending in a `[json-pointer:/blocks/…]`.
 */

/** Where the blocks are shown: messages allow 50 blocks, App Home views 100. */
export type Surface = 'message' | 'home';

/** The outcome of {@link validateBlocks}: no `error` means Slack would accept the blocks. */
export interface BlockCheck {
  readonly error?: 'invalid_blocks' | 'invalid_blocks_format';
  readonly messages: readonly string[];
}

const MAX_BLOCKS: Record<Surface, number> = { message: 50, home: 100 };

const KNOWN_BLOCKS = new Set([
  'actions',
  'alert',
  'context',
  'divider',
  'file',
  'header',
  'image',
  'input',
  'markdown',
  'rich_text',
  'section',
  'table',
  'video',
]);

const INTERACTIVE_ELEMENTS = new Set([
  'button',
  'channels_select',
  'checkboxes',
  'conversations_select',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'external_select',
  'file_input',
  'multi_channels_select',
  'multi_conversations_select',
  'multi_external_select',
  'multi_static_select',
  'multi_users_select',
  'number_input',
  'overflow',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'static_select',
  'timepicker',
  'url_text_input',
  'users_select',
  'workflow_button',
]);

/**
 * Checks `blocks` against Slack's rules for `surface`.
 *
 * Guarantees: anything Slack rejects for block count, text lengths (section/context 3000, header 150, section field
 * 2000), button text 75 / value 2000 / url 3000, `action_id` length 255 and uniqueness within a block, `block_id`
 * uniqueness within the message, malformed text objects or incomplete confirm dialogs is reported. Unknown
 * block types are reported too. Block types it does not model in depth (rich_text, table, …) pass.
 */
export function validateBlocks(blocks: unknown, surface: Surface): BlockCheck {
  if (!Array.isArray(blocks)) {
    return { error: 'invalid_blocks_format', messages: ['blocks must be a JSON array'] };
  }
  const problems: string[] = [];
  const max = MAX_BLOCKS[surface];
  if (blocks.length > max) problems.push(`no more than ${max} items allowed [json-pointer:/blocks]`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    checkBlock(block, `/blocks/${i}`, blockIds, problems);
  });
  return problems.length > 0 ? { error: 'invalid_blocks', messages: problems } : { messages: [] };
}

function checkBlock(block: unknown, at: string, blockIds: Set<string>, problems: string[]): void {
  if (!isRecord(block)) {
    problems.push(`must be an object [json-pointer:${at}]`);
    return;
  }
  const type = block.type;
  if (typeof type !== 'string' || !KNOWN_BLOCKS.has(type)) {
    problems.push(`unsupported type: ${String(type)} [json-pointer:${at}/type]`);
    return;
  }
  if (block.block_id !== undefined) {
    if (typeof block.block_id !== 'string' || block.block_id.length === 0 || block.block_id.length > 255) {
      problems.push(`must be a string of 1 to 255 characters [json-pointer:${at}/block_id]`);
    } else if (blockIds.has(block.block_id)) {
      problems.push(`duplicate block_id ${block.block_id} [json-pointer:${at}/block_id]`);
    } else {
      blockIds.add(block.block_id);
    }
  }
  const actionIds = new Set<string>();
  switch (type) {
    case 'section':
      checkSection(block, at, actionIds, problems);
      break;
    case 'context':
      checkContext(block, at, problems);
      break;
    case 'header':
      checkText(block.text, `${at}/text`, 150, problems, 'plain_text');
      break;
    case 'actions':
      checkActions(block, at, actionIds, problems);
      break;
    case 'image':
      checkImage(block, at, problems);
      break;
    case 'markdown':
      if (typeof block.text !== 'string' || block.text.length === 0 || block.text.length > 12000) {
        problems.push(`must be a string of 1 to 12000 characters [json-pointer:${at}/text]`);
      }
      break;
    default:
      break;
  }
}

function checkSection(block: Record<string, unknown>, at: string, actionIds: Set<string>, problems: string[]): void {
  if (block.text === undefined && block.fields === undefined) {
    problems.push(`must provide either text or fields [json-pointer:${at}]`);
  }
  if (block.text !== undefined) checkText(block.text, `${at}/text`, 3000, problems);
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields) || block.fields.length === 0 || block.fields.length > 10) {
      problems.push(`must be an array of 1 to 10 text objects [json-pointer:${at}/fields]`);
    } else {
      block.fields.forEach((field, i) => {
        checkText(field, `${at}/fields/${i}`, 2000, problems);
      });
    }
  }
  if (block.accessory !== undefined) checkElement(block.accessory, `${at}/accessory`, actionIds, problems);
}

function checkContext(block: Record<string, unknown>, at: string, problems: string[]): void {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > 10) {
    problems.push(`must be an array of 1 to 10 elements [json-pointer:${at}/elements]`);
    return;
  }
  elements.forEach((element, i) => {
    const where = `${at}/elements/${i}`;
    if (isRecord(element) && element.type === 'image') {
      checkImageElement(element, where, problems);
    } else {
      checkText(element, where, 3000, problems);
    }
  });
}

function checkActions(block: Record<string, unknown>, at: string, actionIds: Set<string>, problems: string[]): void {
  const elements = block.elements;
  if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) {
    problems.push(`must be an array of 1 to 25 elements [json-pointer:${at}/elements]`);
    return;
  }
  elements.forEach((element, i) => {
    checkElement(element, `${at}/elements/${i}`, actionIds, problems);
  });
}

function checkImage(block: Record<string, unknown>, at: string, problems: string[]): void {
  if (block.image_url === undefined && block.slack_file === undefined) {
    problems.push(`must provide either image_url or slack_file [json-pointer:${at}]`);
  }
  if (block.image_url !== undefined) checkString(block.image_url, `${at}/image_url`, 3000, problems);
  checkString(block.alt_text, `${at}/alt_text`, 2000, problems);
  if (block.title !== undefined) checkText(block.title, `${at}/title`, 2000, problems, 'plain_text');
}

function checkImageElement(element: Record<string, unknown>, at: string, problems: string[]): void {
  if (element.image_url === undefined && element.slack_file === undefined) {
    problems.push(`must provide either image_url or slack_file [json-pointer:${at}]`);
  }
  checkString(element.alt_text, `${at}/alt_text`, 2000, problems);
}

function checkElement(element: unknown, at: string, actionIds: Set<string>, problems: string[]): void {
  if (!isRecord(element)) {
    problems.push(`must be an object [json-pointer:${at}]`);
    return;
  }
  const type = element.type;
  if (type === 'image') {
    checkImageElement(element, at, problems);
    return;
  }
  if (typeof type !== 'string' || !INTERACTIVE_ELEMENTS.has(type)) {
    problems.push(`unsupported type: ${String(type)} [json-pointer:${at}/type]`);
    return;
  }
  if (element.action_id !== undefined) {
    if (typeof element.action_id !== 'string' || element.action_id.length === 0 || element.action_id.length > 255) {
      problems.push(`must be a string of 1 to 255 characters [json-pointer:${at}/action_id]`);
    } else if (actionIds.has(element.action_id)) {
      problems.push(`duplicate action_id ${element.action_id} in the block [json-pointer:${at}/action_id]`);
    } else {
      actionIds.add(element.action_id);
    }
  }
  if (element.confirm !== undefined) checkConfirm(element.confirm, `${at}/confirm`, problems);
  if (type === 'button') {
    checkText(element.text, `${at}/text`, 75, problems, 'plain_text');
    if (element.value !== undefined) checkString(element.value, `${at}/value`, 2000, problems);
    if (element.url !== undefined) checkString(element.url, `${at}/url`, 3000, problems);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      problems.push(`must be one of primary, danger [json-pointer:${at}/style]`);
    }
  }
}

function checkConfirm(confirm: unknown, at: string, problems: string[]): void {
  if (!isRecord(confirm)) {
    problems.push(`must be an object [json-pointer:${at}]`);
    return;
  }
  // Slack's reference requires all four (Slack's Block Kit reference), though the TypeScript types only require `text`.
  checkText(confirm.title, `${at}/title`, 100, problems, 'plain_text');
  checkText(confirm.text, `${at}/text`, 300, problems);
  checkText(confirm.confirm, `${at}/confirm`, 30, problems, 'plain_text');
  checkText(confirm.deny, `${at}/deny`, 30, problems, 'plain_text');
  if (confirm.style !== undefined && confirm.style !== 'primary' && confirm.style !== 'danger') {
    problems.push(`must be one of primary, danger [json-pointer:${at}/style]`);
  }
}

function checkText(value: unknown, at: string, max: number, problems: string[], only?: 'plain_text' | 'mrkdwn'): void {
  if (!isRecord(value)) {
    problems.push(`must be a text object [json-pointer:${at}]`);
    return;
  }
  if (value.type !== 'plain_text' && value.type !== 'mrkdwn') {
    problems.push(`must be one of plain_text, mrkdwn [json-pointer:${at}/type]`);
  } else if (only !== undefined && value.type !== only) {
    problems.push(`must be ${only} [json-pointer:${at}/type]`);
  }
  checkString(value.text, `${at}/text`, max, problems);
}

function checkString(value: unknown, at: string, max: number, problems: string[]): void {
  if (typeof value !== 'string') {
    problems.push(`must be a string [json-pointer:${at}]`);
  } else if (value.length === 0) {
    problems.push(`must be more than 0 characters [json-pointer:${at}]`);
  } else if (value.length > max) {
    problems.push(`must be less than ${max + 1} characters [json-pointer:${at}]`);
  }
}

/** True for plain objects (not arrays, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
