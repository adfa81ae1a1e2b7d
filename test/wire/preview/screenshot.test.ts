import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { diagnose } from '../../../src/diagnosis/diagnose.ts';
import { gallery } from '../../../src/slack/preview/gallery.ts';
import { previewPage } from '../../../src/slack/preview/page.ts';
import { seedInput } from '../../unit/diagnosis/fixtures.ts';

/** Debian's chromium (`apt-get install -y chromium`, as .ci/run does), driven by playwright-core. */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
/** The page's own chrome, standing in for Slack's: the channel bar on top, the composer at the bottom. */
const BAR = 52;
const COMPOSER = 64;
/** UPDATE_SCREENSHOTS=1 writes the pictures into docs/images (README); otherwise they go to a temporary folder. */
const IMAGES = new URL('../../../docs/images/', import.meta.url);

const scenes = gallery({ diagnosis: diagnose(seedInput()), now: new Date('2026-11-24T02:45:00.000Z') });
const withButtons = scenes.filter((s) => s.top && JSON.stringify(s.top.blocks).includes('"actions"'));

describe('the preview page in headless Chromium', () => {
  let dir: string;
  let context: BrowserContext;
  let page: Page;
  let out: string;
  const external: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium fonts-noto-color-emoji); .ci/run does`,
      );
    dir = mkdtempSync(join(tmpdir(), 'imagepull-preview-'));
    out = process.env.UPDATE_SCREENSHOTS === '1' ? IMAGES.pathname : join(dir, 'images/');
    mkdirSync(join(out, 'states'), { recursive: true });
    const file = join(dir, 'preview.html');
    writeFileSync(file, previewPage(scenes, { title: 'imagepull-bot — every state of the seed incident' }));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: PHONE,
      deviceScaleFactor: 2,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => {
      if (!/^(file|data|about):/.test(r.url())) external.push(r.url());
    });
    await page.goto(`file://${file}`);
  });

  after(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Scrolls a scene to the top (under the channel bar) and returns where its top-level buttons are. */
  async function buttonsOf(id: string) {
    await page.locator(`#scene-${id}`).evaluate((e) => e.scrollIntoView({ block: 'start' }));
    const top = page.locator(`#scene-${id} [data-role=top]`);
    const box = await top.locator('[data-block=actions]').boundingBox();
    const message = await top.boundingBox();
    assert.ok(box && message, `${id}: the top-level message has buttons`);
    return { box, message };
  }

  it('is self-contained: nothing is fetched from anywhere', () => {
    assert.deepEqual(external, []);
  });

  it('shows the top-level buttons of every state within the first phone screen (390×844)', async () => {
    assert.ok(withButtons.length >= 10, `${withButtons.length} states with buttons`);
    for (const s of withButtons) {
      const { box, message } = await buttonsOf(s.id);
      assert.ok(message.y >= BAR - 1, `${s.id}: the message starts under the channel bar`);
      assert.ok(
        box.y + box.height <= PHONE.height - COMPOSER,
        `${s.id}: buttons end at ${Math.round(box.y + box.height)} px, below the first screen (${PHONE.height - COMPOSER} px)`,
      );
    }
  });

  it('pictures the first phone screen of every state (docs/images/states/) and the desktop view', async () => {
    // Small pictures: one CSS pixel per pixel, in a second fresh profile.
    const small = await chromium.launchPersistentContext(join(dir, 'profile-small'), {
      executablePath: CHROMIUM,
      args: ARGS,
      headless: true,
      viewport: PHONE,
      deviceScaleFactor: 1,
    });
    const p = small.pages()[0] ?? (await small.newPage());
    await p.goto(page.url());
    for (const s of scenes) {
      await p.locator(`#scene-${s.id}`).evaluate((e) => e.scrollIntoView({ block: 'start' }));
      const file = join(out, 'states', `${s.id}.png`);
      await p.screenshot({ path: file });
      assert.ok(readFileSync(file).length > 5_000, `${s.id}: a real picture`);
    }
    // The desktop picture for the README.
    await p.setViewportSize(DESKTOP);
    await p.locator('#scene-open-approve').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    const box = await p.locator('#scene-open-approve [data-role=top] [data-block=actions]').boundingBox();
    assert.ok(box && box.y + box.height <= DESKTOP.height - COMPOSER, 'buttons on the first desktop screen too');
    const desktop = join(out, 'incident-desktop.png');
    await p.screenshot({ path: desktop });
    assert.ok(readFileSync(desktop).length > 20_000);
    await small.close();
  });

  it('lays out at phone width without sideways scrolling', async () => {
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(width <= PHONE.width, `page is ${width} px wide`);
  });

  it('takes the README picture: the seed incident on a phone', async () => {
    await buttonsOf('open-approve');
    const phone = join(out, 'incident-phone.png');
    await page.screenshot({ path: phone });
    assert.ok(readFileSync(phone).length > 20_000, 'a real picture');
  });

  it('draws what it is given as text: a hostile title or message cannot inject markup', async () => {
    const evil = '<img src=x onerror="document.title=1"><script>document.title=2</script>';
    const html = previewPage(
      [
        {
          id: 'x"><b>',
          title: evil,
          note: evil,
          top: {
            text: evil,
            blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${evil} <javascript:alert(1)|click>` } }],
          },
          thread: [],
          ephemeral: [],
        },
      ],
      { title: evil },
    );
    const file = join(dir, 'hostile.html');
    writeFileSync(file, html);
    const p = await context.newPage();
    await p.goto(`file://${file}`);
    assert.equal(await p.locator('main img, main script, main a[href^="javascript"]').count(), 0);
    // Titles are plain text; in mrkdwn `<…>` is Slack's own token syntax, drawn as the token's label.
    assert.match((await p.locator('.scene-title h2').textContent()) ?? '', /^<img src=x onerror=/);
    assert.match(await p.locator('[data-role=top]').innerText(), /img src=x onerror=.*document\.title=2/s);
    assert.equal(await p.title(), evil.replaceAll(/\s+/g, ' '));
    await p.close();
  });
});
