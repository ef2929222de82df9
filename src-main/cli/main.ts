/** Entry point of the `vmdesk` command (bin/vmdesk.js). */
import { main } from './program.js';

process.exitCode = await main(process.argv);
