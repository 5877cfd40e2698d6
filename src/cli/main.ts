// Entry point of the `marquee` command: bin/marquee.mjs imports its build (dist/node/src/cli/main.js);
// `npm run dev` runs this file through tsx.
import { runCli } from './cli.js';

const code = await runCli(process.argv.slice(2), process.env, {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
// Let pino flush, then leave even if a stray handle (e.g. a simulator socket) lingers.
process.exitCode = code;
setTimeout(() => process.exit(code), 200).unref();
