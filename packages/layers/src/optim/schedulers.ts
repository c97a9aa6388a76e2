// Learning-rate schedulers (torch.optim.lr_scheduler): call step() once per epoch (or per batch
// for OneCycleLR); each sets every group's lr from a closed form of the step count.
import { ArgumentError } from '@softpool/tensor';
import type { Optimizer } from './optimizer.js';

type AnyOptimizer = Optimizer<{ lr: number }>;

export abstract class LRScheduler {
  /** Number of step() calls so far (PyTorch's last_epoch; 0 after construction). */
  lastEpoch = -1;
  readonly baseLrs: number[];
  constructor(readonly optimizer: AnyOptimizer) {
    for (const g of optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
  }
  /** The learning rate of each group at `lastEpoch`. */
  protected abstract lrAt(epoch: number): number[];
  /** Advances one step and applies the new learning rates. */
  step(): void {
    this.lastEpoch++;
    this.lrAt(this.lastEpoch).forEach((lr, i) => {
      this.optimizer.paramGroups[i].lr = lr;
    });
  }
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
  stateDict(): { lastEpoch: number } {
    return { lastEpoch: this.lastEpoch };
  }
  loadStateDict(sd: { lastEpoch: number }): void {
    this.lastEpoch = sd.lastEpoch - 1;
    this.step();
  }
}

/** lr = base * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
  ) {
    super(optimizer);
    if (!Number.isInteger(stepSize) || stepSize <= 0)
      throw new ArgumentError(`StepLR: stepSize must be a positive integer, got ${stepSize}`);
    this.step();
  }
  protected override lrAt(e: number): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(e / this.stepSize));
  }
}

/** lr = etaMin + (base - etaMin) (1 + cos(pi epoch / tMax)) / 2. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    readonly tMax: number,
    readonly etaMin = 0,
  ) {
    super(optimizer);
    if (!(tMax > 0)) throw new ArgumentError(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    this.step();
  }
  protected override lrAt(e: number): number[] {
    return this.baseLrs.map(
      (b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * e) / this.tMax))) / 2,
    );
  }
}

/** Linear ramp of the factor from startFactor to endFactor over totalIters steps (linear warmup). */
export class LinearLR extends LRScheduler {
  constructor(
    optimizer: AnyOptimizer,
    readonly startFactor = 1 / 3,
    readonly endFactor = 1,
    readonly totalIters = 5,
  ) {
    super(optimizer);
    if (!(startFactor > 0 && startFactor <= 1))
      throw new ArgumentError(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    this.step();
  }
  protected override lrAt(e: number): number[] {
    const t = Math.min(e, this.totalIters) / this.totalIters;
    return this.baseLrs.map((b) => b * (this.startFactor + (this.endFactor - this.startFactor) * t));
  }
}

export interface OneCycleOptions {
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  /** Cycle momentum (SGD momentum or Adam's beta1) inversely to the lr. Default true. */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
}

/** The 1cycle policy (Smith & Topin), stepped once per batch for totalSteps batches. */
export class OneCycleLR extends LRScheduler {
  readonly #phases: { end: number; lr: [string, string]; m: [string, string] }[];
  readonly #o: Required<OneCycleOptions>;
  readonly #maxLrs: number[];
  constructor(
    optimizer: AnyOptimizer,
    maxLr: number | number[],
    readonly totalSteps: number,
    options: OneCycleOptions = {},
  ) {
    super(optimizer);
    if (!Number.isInteger(totalSteps) || totalSteps <= 0)
      throw new ArgumentError(`OneCycleLR: totalSteps must be a positive integer, got ${totalSteps}`);
    this.#o = {
      pctStart: 0.3,
      annealStrategy: 'cos',
      divFactor: 25,
      finalDivFactor: 1e4,
      threePhase: false,
      cycleMomentum: true,
      baseMomentum: 0.85,
      maxMomentum: 0.95,
      ...options,
    };
    const o = this.#o;
    this.#maxLrs = optimizer.paramGroups.map((_, i) => (Array.isArray(maxLr) ? maxLr[i] : maxLr));
    const p1 = o.pctStart * totalSteps - 1;
    this.#phases = o.threePhase
      ? [
          { end: p1, lr: ['initial', 'max'], m: ['max', 'base'] },
          { end: 2 * o.pctStart * totalSteps - 2, lr: ['max', 'initial'], m: ['base', 'max'] },
          { end: totalSteps - 1, lr: ['initial', 'min'], m: ['max', 'max'] },
        ]
      : [
          { end: p1, lr: ['initial', 'max'], m: ['max', 'base'] },
          { end: totalSteps - 1, lr: ['max', 'min'], m: ['base', 'max'] },
        ];
    this.#setMomentum(o.maxMomentum);
    optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = this.#maxLrs[i] / o.divFactor;
      g.lr = g.initialLr;
      this.baseLrs[i] = g.initialLr;
    });
    this.step();
  }
  #anneal(start: number, end: number, pct: number): number {
    if (this.#o.annealStrategy === 'linear') return (end - start) * pct + start;
    return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
  }
  #setMomentum(m: number): void {
    if (!this.#o.cycleMomentum) return;
    for (const g of this.optimizer.paramGroups as unknown as Record<string, unknown>[]) {
      if (Array.isArray(g.betas)) g.betas = [m, (g.betas as number[])[1]];
      else if (typeof g.momentum === 'number') g.momentum = m;
    }
  }
  protected override lrAt(step: number): number[] {
    if (step > this.totalSteps) {
      throw new ArgumentError(`OneCycleLR: stepped ${step} times, more than totalSteps ${this.totalSteps}`);
    }
    const o = this.#o;
    let start = 0;
    let lrs: number[] = [];
    for (const [i, ph] of this.#phases.entries()) {
      if (step <= ph.end || i === this.#phases.length - 1) {
        const pct = (step - start) / (ph.end - start);
        lrs = this.baseLrs.map((initial, g) => {
          const v = { initial, max: this.#maxLrs[g], min: initial / o.finalDivFactor };
          return this.#anneal(v[ph.lr[0] as 'initial'], v[ph.lr[1] as 'initial'], pct);
        });
        const mv = { base: o.baseMomentum, max: o.maxMomentum };
        this.#setMomentum(this.#anneal(mv[ph.m[0] as 'base'], mv[ph.m[1] as 'base'], pct));
        break;
      }
      start = ph.end;
    }
    return lrs;
  }
}
