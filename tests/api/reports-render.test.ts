/**
 * The printable HTML report rendered by a real browser: headless Chromium (Debian package
 * `chromium`, driven by playwright-core; no browser download) must draw every Kazakh letter with a
 * real glyph, never a "tofu" box.
 *
 * How "no missing glyphs" is decided, robustly:
 *  1. The whole report is rendered to a full-page PNG (kept in the OS temp folder for a look).
 *  2. Inside the same page, so with the page's own CSS font stack, each Kazakh letter (ә ғ қ ң ө ұ
 *     ү һ і and their capitals) is drawn alone in an identical fixed-size box and screenshotted
 *     to a PNG. A missing glyph is drawn as the font's .notdef box, the same picture for every
 *     missing character, so: two noncharacters (U+FDD0, U+FDD1, which no font may map) must give
 *     identical PNGs (the detector works), and every letter's PNG must differ from theirs, from an
 *     empty box, and from every other letter's.
 *  3. Chromium's DevTools CSS.getPlatformFontsForNode names the fonts that actually drew the page
 *     text: each must be a named family of the page's font stack, not some system fallback, so the
 *     stack itself covers Kazakh (Liberation Sans, "Arial" on Linux, does not).
 * Skipped, saying why, where Chromium is not installed (apt-get install chromium fonts-dejavu-core).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo/seed.js';
import { call, setupApp } from '../helpers/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const why = hasChromium ? '' : ` [skipped: no Chromium at ${CHROMIUM}; apt-get install -y chromium fonts-dejavu-core]`;
if (!hasChromium) console.warn(`reports-render.test.ts: ${why.trim()}`);

const KAZAKH = ['ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ', 'і'];
const LETTERS = [...KAZAKH, ...KAZAKH.map((c) => c.toUpperCase())];
const NONCHARACTERS = ['\uFDD0', '\uFDD1'];
const GENERIC_FAMILIES = new Set([
  'serif',
  'sans-serif',
  'monospace',
  'cursive',
  'fantasy',
  'system-ui',
  'emoji',
  'math',
  'fangsong',
]);

// No load shedding: PGlite runs in this process, so seeding and big renders stall the event loop.
const ctx = setupApp({ MAX_EVENT_LOOP_DELAY_MS: 0 });

describe('the HTML report in headless Chromium', () => {
  it.skipIf(!hasChromium)(
    `renders to a PNG with a real glyph for every Kazakh letter${why}`,
    async () => {
      const { planId } = await seedDemo(ctx.db.database.db);
      const res = await call(ctx.app, 'GET', `/api/v1/plans/${planId}/reports/2016?format=html&lang=kk`);
      expect(res.status).toBe(200);
      const html = res.raw.body;
      for (const letter of KAZAKH) expect(html, `the report text uses ${letter}`).toContain(letter);

      const { chromium } = await import('playwright-core');
      const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'nysana-chromium-'));
      const browser = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 900 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = browser.pages()[0] ?? (await browser.newPage());
        await page.setContent(html, { waitUntil: 'load' });
        await page.evaluate(() => document.fonts.ready.then(() => undefined));

        // 1. The whole report as a PNG.
        const png = await page.screenshot({ fullPage: true });
        expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        expect(png.readUInt32BE(20)).toBeGreaterThan(2000); // height: the report is many screens long
        await writeFile(path.join(os.tmpdir(), 'nysana-report-2016-kk.png'), png);

        // 2. Each letter alone, in the page's own font stack, in identical boxes.
        const samples = [...LETTERS, ...NONCHARACTERS, ''];
        await page.evaluate((chars) => {
          const strip = document.createElement('div');
          strip.id = 'glyphs';
          for (const [i, ch] of chars.entries()) {
            const box = document.createElement('span');
            box.id = `glyph-${i}`;
            box.textContent = ch;
            box.style.cssText =
              'display:inline-block;width:64px;height:64px;font-size:40px;line-height:64px;text-align:center;overflow:hidden;background:#fff;color:#000';
            strip.append(box);
          }
          document.querySelector('td.name')!.append(strip); // inherits exactly what the table text uses
        }, samples);
        const shots = new Map<string, string>();
        for (const [i, ch] of samples.entries()) {
          shots.set(ch, (await page.locator(`#glyph-${i}`).screenshot()).toString('base64'));
        }
        const tofu = shots.get(NONCHARACTERS[0]!)!;
        expect(shots.get(NONCHARACTERS[1]!), 'two missing characters draw the same box').toBe(tofu);
        const blank = shots.get('')!;
        for (const letter of LETTERS) {
          expect(
            shots.get(letter),
            `${letter} (U+${letter.codePointAt(0)!.toString(16).toUpperCase()}) is drawn`,
          ).not.toBe(blank);
          expect(
            shots.get(letter),
            `${letter} (U+${letter.codePointAt(0)!.toString(16).toUpperCase()}) is not tofu`,
          ).not.toBe(tofu);
        }
        expect(new Set(LETTERS.map((l) => shots.get(l))).size, 'every letter has a glyph of its own').toBe(
          LETTERS.length,
        );
        await page.evaluate(() => document.getElementById('glyphs')!.remove());

        // 3. The fonts that drew the page are the ones its CSS names.
        const stack = await page.evaluate(() => getComputedStyle(document.querySelector('td.name')!).fontFamily);
        const named = stack
          .split(',')
          .map((f) => f.trim().replace(/^["']|["']$/g, ''))
          .filter((f) => !GENERIC_FAMILIES.has(f.toLowerCase()));
        const cdp = await browser.newCDPSession(page);
        await cdp.send('DOM.enable');
        await cdp.send('CSS.enable');
        const { root } = await cdp.send('DOM.getDocument');
        const used = new Map<string, number>();
        for (const selector of ['header', '#section-1', '#section-2', '#section-3']) {
          const { nodeIds } = await cdp.send('DOM.querySelectorAll', {
            nodeId: root.nodeId,
            selector: `${selector} *`,
          });
          for (const nodeId of nodeIds) {
            const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
            for (const f of fonts) used.set(f.familyName, (used.get(f.familyName) ?? 0) + f.glyphCount);
          }
        }
        expect(used.size).toBeGreaterThan(0);
        for (const family of used.keys()) expect(named, `the page's font stack names ${family}`).toContain(family);
      } finally {
        await browser.close();
        await rm(userDataDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
