import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const ROOT = new URL('../..', import.meta.url).pathname;
/** Screenshots of browser tests: the test run's output folder. */
export const SCREENSHOTS = join(ROOT, 'test-results', 'console');

/** A system Chromium: CHROME_PATH, then the usual places; none is a clear failure saying how to install one. */
function chromiumPath(): string {
  const candidates = [
    process.env.CHROME_PATH,
    '/usr/bin/chromium',
    '/usr/lib/chromium/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ].filter((path): path is string => !!path);
  const found = candidates.find((path) => existsSync(path));
  if (!found) {
    throw new Error(
      `No Chromium found (looked at ${candidates.join(', ')}). Install Debian's: apt-get install -y chromium, or set CHROME_PATH.`,
    );
  }
  return found;
}

/** Builds the console with Vite when dist/console is missing or older than its sources. */
export function buildConsole(): void {
  const newest = (path: string): number => {
    const stat = statSync(path);
    return stat.isDirectory()
      ? readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), stat.mtimeMs)
      : stat.mtimeMs;
  };
  const output = join(ROOT, 'dist/console/index.html');
  if (existsSync(output) && statSync(output).mtimeMs >= newest(join(ROOT, 'console'))) return;
  execFileSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}

export async function launch(): Promise<Browser> {
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu'] });
}

/**
 * Every console error and page error of a page. CSP violations are console errors ("Refused to
 * …") and are also recorded from the page's securitypolicyviolation events. Chromium's own lines
 * for API answers that are errors by design (404 not connected, 422 rejected, 409 conflict) are
 * not script errors and are left out.
 */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    const text = message.text();
    if (
      message.type() === 'error' &&
      !/^Failed to load resource: the server responded with a status of (4\d\d)/.test(text)
    ) {
      errors.push(text);
    }
  });
  page.on('pageerror', (error) => errors.push(error.message));
  void page.addInitScript(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  return errors;
}

/** All text and form values of the page, shadow roots included (what a user or a script could read). */
export function everythingOnPage(page: Page): Promise<string> {
  return page.evaluate(`(() => {
    const parts = [];
    const walk = (node) => {
      if (node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement) parts.push(node.value);
      if (node instanceof Element) {
        parts.push(node.outerHTML);
        if (node.shadowRoot) walk(node.shadowRoot);
      }
      node.childNodes.forEach(walk);
    };
    walk(document);
    parts.push(JSON.stringify(sessionStorage), window.location.href);
    return parts.join(String.fromCharCode(10));
  })()`);
}

/** The text (or id) of the element that has the focus, through shadow roots. */
export function focusedElement(page: Page): Promise<string | undefined> {
  return page.evaluate(`(() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
    return element ? (element.id || element.textContent.trim()) : undefined;
  })()`);
}

/**
 * Controls (buttons, links, inputs, selects, textareas) without an accessible name, through shadow
 * roots: each described by its tag and what identifies it. A name comes from aria-label,
 * aria-labelledby, a <label for>, a wrapping <label>, its text, or a title.
 */
export function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(`(() => {
    const missing = [];
    const visit = (root) => {
      for (const element of root.querySelectorAll('button, a[href], input, select, textarea')) {
        if (element.type === 'hidden' || element.closest('[hidden]')) continue;
        const labelled =
          (element.getAttribute('aria-label') || '').trim() ||
          (element.getAttribute('aria-labelledby') || '').trim() ||
          (element.id && root.querySelector('label[for="' + element.id + '"]')) ||
          element.closest('label') ||
          (element.textContent || '').trim() ||
          (element.getAttribute('title') || '').trim();
        if (!labelled) missing.push(element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + (element.name ? '[name=' + element.name + ']' : ''));
      }
      for (const host of root.querySelectorAll('*')) if (host.shadowRoot) visit(host.shadowRoot);
    };
    visit(document);
    return missing;
  })()`);
}
