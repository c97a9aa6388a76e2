// @softpool/layers: modules, SoftPool and the baseline poolings, losses, optimizers.
// Skeleton of the data-flow layout; issue 5 and 6 fills it. Nothing is exported yet.
export {};
