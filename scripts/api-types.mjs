// The console's API types, generated from the service's OpenAPI document (docs/openapi.json) by
// openapi-typescript — never hand copies. `node scripts/api-types.mjs --write` writes
// console/src/api-types.ts; without it, it checks that the file is current (npm run check).
// `npm run api:types` first refreshes docs/openapi.json from the running service's code.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const root = join(import.meta.dirname, '..');
const target = join(root, 'console/src/api-types.ts');
const document = JSON.parse(readFileSync(join(root, 'docs/openapi.json'), 'utf8'));
const header =
  '// Generated from docs/openapi.json by scripts/api-types.mjs (openapi-typescript): do not edit.\n// `npm run api:types` regenerates it; `npm run check` fails when it is out of date.\n';
const source = header + astToString(await openapiTS(document, { alphabetize: true }));
const options = (await prettier.resolveConfig(target)) ?? {};
const generated = await prettier.format(source, { ...options, filepath: target });

if (process.argv.includes('--write')) {
  writeFileSync(target, generated);
  console.log('wrote console/src/api-types.ts');
} else {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing: reported below
  }
  if (current !== generated) {
    console.error(
      'console/src/api-types.ts is not what docs/openapi.json generates: run `npm run api:types`.',
    );
    process.exit(1);
  }
}
