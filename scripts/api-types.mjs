// The console's API types, generated from the service's OpenAPI document (docs/openapi.json) by
// openapi-typescript — never hand copies — and the API reference page (every route, the documents
// field by field). `node scripts/api-types.mjs --write` writes console/src/api-types.ts and
// docs/api-reference.md; without it, it checks that both are current (npm run check).
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

// docs/api-reference.md: every route in one table, and the documents field by field.
const DOCUMENTS = [
  'IntegrationStatusDto',
  'LastVerificationDto',
  'ReadinessDto',
  'ReadinessCheckDto',
  'HandoffDocumentDto',
  'HandoffDynamicsDto',
  'HandoffErrorDto',
  'AuditEventDto',
];
const cell = (text) =>
  String(text ?? '')
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ');
const typeOf = (schema) => {
  if (schema.$ref) return schema.$ref.split('/').pop();
  if (schema.allOf?.[0]?.$ref) return schema.allOf[0].$ref.split('/').pop();
  if (schema.enum) return schema.enum.map((v) => `\`${v}\``).join(', ');
  if (schema.type === 'array') return `array of ${typeOf(schema.items ?? {})}`;
  return [schema.type ?? 'object', schema.format].filter(Boolean).join(', ');
};
const lines = [
  '# API reference',
  '',
  'Generated from the OpenAPI document (`docs/openapi.json`, also served at `/docs/openapi.json`) by',
  '`npm run api:types`; `npm run check` fails when it is out of date. The guide is [api.md](api.md).',
  '',
  '## Routes',
  '',
  '| method | path | what |',
  '| --- | --- | --- |',
];
for (const [path, item] of Object.entries(document.paths)) {
  for (const method of ['get', 'put', 'post', 'patch', 'delete']) {
    const operation = item[method];
    if (operation) lines.push(`| ${method.toUpperCase()} | \`${path}\` | ${cell(operation.summary)} |`);
  }
}
for (const name of DOCUMENTS) {
  const schema = document.components.schemas[name];
  if (!schema) continue;
  lines.push(
    '',
    `## ${name.replace(/Dto$/, '')}`,
    '',
    '| field | type | description |',
    '| --- | --- | --- |',
  );
  for (const [field, property] of Object.entries(schema.properties ?? {})) {
    const type = `${typeOf(property)}${property.nullable ? ' or null' : ''}${(schema.required ?? []).includes(field) ? '' : ' (optional)'}`;
    lines.push(
      `| \`${field}\` | ${cell(type)} | ${cell(property.description ?? (property.example !== undefined ? `e.g. \`${JSON.stringify(property.example)}\`` : ''))} |`,
    );
  }
}
const referenceTarget = join(root, 'docs/api-reference.md');
const reference = await prettier.format(lines.join('\n') + '\n', {
  ...((await prettier.resolveConfig(referenceTarget)) ?? {}),
  filepath: referenceTarget,
});

const outputs = [
  [target, generated, 'console/src/api-types.ts'],
  [referenceTarget, reference, 'docs/api-reference.md'],
];
if (process.argv.includes('--write')) {
  for (const [file, text, name] of outputs) {
    writeFileSync(file, text);
    console.log(`wrote ${name}`);
  }
} else {
  for (const [file, text, name] of outputs) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // missing: reported below
    }
    if (current !== text) {
      console.error(`${name} is not what docs/openapi.json generates: run \`npm run api:types\`.`);
      process.exit(1);
    }
  }
}
