// @softpool/autograd: reverse-mode automatic differentiation.
// Skeleton of the data-flow layout; issue 3 fills it. Nothing is exported yet.
export {};
