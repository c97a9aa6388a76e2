// @softpool/webgpu: the WebGPU backend (Node through Dawn, browsers through navigator.gpu).
// Skeleton of the data-flow layout; issue 4 fills it. Nothing is exported yet.
export {};
