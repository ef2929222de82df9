// Imported first by main.ts, before any schema exists: zod would otherwise probe whether it may
// compile validators (`Function('')`), which the CSP forbids and reports. It is told not to try.
import { z } from 'zod';

z.config({ jitless: true });
