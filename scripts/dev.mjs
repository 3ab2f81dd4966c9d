// `npm run start:dev`: the TypeScript compiler in watch mode, and the service restarted by
// `node --watch` whenever the compiled output changes. Ctrl+C stops both.
import { spawn, execFileSync } from 'node:child_process';

const tsc = ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'];
execFileSync(process.execPath, tsc, { stdio: 'inherit' });
const children = [
  spawn(process.execPath, [...tsc, '--watch', '--preserveWatchOutput'], { stdio: 'inherit' }),
  spawn(process.execPath, ['--watch', 'dist/src/main.js'], { stdio: 'inherit' }),
];
const stop = () => children.forEach((child) => child.kill('SIGINT'));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
