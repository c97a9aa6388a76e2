// The embedded dataset is found relative to the module (import.meta.url): shims make that work in
// the CommonJS build too.
import { defineConfig } from 'tsup';
import shared from '../../tsup.shared.js';

export default defineConfig({ ...(shared as object), shims: true });
