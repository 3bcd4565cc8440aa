import fs from 'node:fs';
import { API_REFERENCE, readCrds, renderApiReference } from './api-reference.js';

// `npm run docs:api`: rewrites docs/api.md from the CRDs (api-reference.test.ts checks it is current).
fs.writeFileSync(API_REFERENCE, renderApiReference(readCrds()));
console.log(`wrote ${API_REFERENCE}`);
