// @softpool/models: small CNNs whose every downsampling layer uses a chosen pooling method.
export * from './cnn3d.js';
export * from './lenet.js';
export * from './pools.js';
export * from './registry.js';
export * from './resnet.js';
export * from './vgg.js';
