import { libraryConfig } from '../../tsup.shared.js';

// GPUDevice, GPUBuffer, ... in our types come from @webgpu/types (a dependency for this reason),
// which itself needs the DOM lib (EventTarget, VideoFrame): both are referenced so that a consumer
// type-checks without configuring either.
export default libraryConfig({
  dtsBanner: '/// <reference lib="dom" />\n/// <reference types="@webgpu/types" />',
});
