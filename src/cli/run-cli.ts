import { ConfigError } from '../config/app-config.js';

/** Runs a command's main function and exits with its code; a bad configuration prints its problem list. */
export function runCli(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof ConfigError ? error.message : error);
      process.exit(1);
    },
  );
}
