/** `npm run machine`: write the statechart's definition and diagram to docs/. */
import { writeFileSync } from 'node:fs';
import { machineJson, machineMermaid } from './diagram.js';

writeFileSync('docs/machine.json', machineJson());
writeFileSync('docs/machine.mmd', machineMermaid());
console.log('wrote docs/machine.json and docs/machine.mmd');
