import { startSandbox } from '../sandbox/server.js';

/** The sandbox alone on a port, for benchmarks (`tsx bench/sandbox-server.ts <port>`). */
const sandbox = await startSandbox({ port: Number(process.argv[2] ?? 0) });
console.log(JSON.stringify({ login_url: sandbox.loginUrl }));
const stop = () => void sandbox.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
