import { libraryConfig } from '../../tsup.shared.js';

// Tensor implements `[Symbol.dispose]` (for `using`), declared by TypeScript's esnext.disposable lib.
export default libraryConfig({ dtsBanner: '/// <reference lib="esnext.disposable" />' });
