// @softpool/models: LeNet-5, VGG-style, ResNet-20-style and 3D CNNs with a pooling choice.
// Skeleton of the data-flow layout; issue 7 fills it. Nothing is exported yet.
export {};
