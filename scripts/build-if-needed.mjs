// `npm start` runs the compiled service: compile the service (tsc) and the admin console (Vite)
// first when their output is missing or older than a source.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), stat.mtimeMs);
}

function stale(output, sources) {
  const builtAt = existsSync(output) ? statSync(output).mtimeMs : 0;
  return Math.max(...sources.filter((s) => existsSync(s)).map(newest)) > builtAt;
}

if (
  stale('dist/src/main.js', ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package.json'])
) {
  console.error('Building the service (tsc -p tsconfig.build.json)...');
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
if (stale('dist/console/index.html', ['console', 'package.json'])) {
  console.error('Building the admin console (vite build)...');
  execFileSync(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
}
