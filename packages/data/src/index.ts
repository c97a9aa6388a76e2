// @softpool/data: IDX / Fashion-MNIST reading, DataLoader, synthetic clips.
// Skeleton of the data-flow layout; issue 7 fills it. Nothing is exported yet.
export {};
