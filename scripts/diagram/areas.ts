import * as fs from 'fs';
import * as path from 'path';
import { IConstruct } from 'constructs';

/** Maps a construct to the lib/<area> whose index exports its class (undefined for classes outside the library). */
export function libraryAreaOf(libDir: string): (c: IConstruct) => string | undefined {
  const byClass = new Map<Function, string>();
  for (const area of fs.readdirSync(libDir)) {
    const index = path.join(libDir, area, 'index.ts');
    if (!fs.existsSync(index)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(index) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (typeof value === 'function') byClass.set(value, area);
  }
  return (c) => byClass.get(c.constructor);
}
