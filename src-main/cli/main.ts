/** Entry point of the `vmdesk` command (bundled to dist/bundle/cli.cjs, run by bin/vmdesk.js). */
import { main } from './program.js';

void main(process.argv).then((code) => {
  process.exitCode = code;
});
