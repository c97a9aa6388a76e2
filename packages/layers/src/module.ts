// Module: the base of every layer. Parameters and submodules are found by walking the instance's
// own properties (in definition order, like PyTorch's registration order); buffers (running
// statistics) are registered explicitly because they are plain tensors.
import { noGrad, zeroGrad } from '@softpool/autograd';
import {
  copy_,
  DTypeError,
  fmtShape,
  initBackend,
  isFloat,
  keep,
  ShapeError,
  StateError,
  Tensor,
} from '@softpool/tensor';

/**
 * A tensor that a module learns: it shares `data`'s memory, requires grad and survives scopes.
 * @example this.weight = new Parameter(randn([16, 3, 3, 3]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    data.assertAlive('Parameter');
    super(data.storage, data.shape, data.strides, data.offset, false);
    if (requiresGrad) {
      if (!isFloat(data.dtype))
        throw new DTypeError(`Parameter: only float tensors can be learned, got ${data.dtype}`);
      this.requiresGrad = true;
    }
  }
}

/** A Parameter made from a fresh tensor, whose handle is released (the Parameter owns the memory). */
export function param(data: Tensor): Parameter {
  const p = new Parameter(data);
  data.dispose();
  return p;
}

/** A tensor-valued state entry (parameters and persistent buffers) by dotted name. */
export type StateDict = Record<string, Tensor>;

export abstract class Module {
  /** Train mode (dropout active, batch statistics); `eval()` turns it off. */
  training = true;
  readonly #buffers = new Map<string, { tensor: Tensor | null; persistent: boolean }>();

  /** The computation; call it as `module.forward(x)`. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /**
   * `next.forward(this.forward(x))` as one computation, where this module has one for `next`
   * (giving the same values), else undefined. `Sequential` asks each layer about the next one.
   */
  fusedForward(_next: Module): ((x: Tensor) => Tensor) | undefined {
    return undefined;
  }

  /**
   * Registers a buffer: state that is saved and moved with the module but not learned
   * (BatchNorm's running statistics). It becomes readable and writable as `this[name]`.
   */
  protected registerBuffer(name: string, tensor: Tensor | null, { persistent = true } = {}): void {
    const entry = { tensor: tensor ? keep(tensor) : null, persistent };
    this.#buffers.set(name, entry);
    Object.defineProperty(this, name, {
      enumerable: false,
      configurable: true,
      get: () => entry.tensor,
      set: (t: Tensor | null) => {
        entry.tensor = t ? keep(t) : null;
      },
    });
  }

  /** Direct children (submodules), with their property names. Arrays of modules count too. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) yield [key, value];
      else if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) if (v instanceof Module) yield [`${key}.${i}`, v];
      }
    }
  }

  children(): Module[] {
    return [...this.namedChildren()].map(([, m]) => m);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [name, child] of this.namedChildren())
      yield* child.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  modules(): Module[] {
    return [...this.namedModules()].map(([, m]) => m);
  }

  /** Own parameters (not recursing), by property name; arrays of parameters count too. */
  *#ownParameters(): Generator<[string, Parameter]> {
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Parameter) yield [key, value];
      else if (Array.isArray(value)) {
        for (const [i, v] of value.entries()) if (v instanceof Parameter) yield [`${key}.${i}`, v];
      }
    }
  }

  /** Every parameter with its dotted name (each parameter once, even if shared). */
  *namedParameters(): Generator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        yield [prefix ? `${prefix}.${name}` : name, p];
      }
    }
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Buffers with dotted names (persistent ones only when `persistentOnly`). */
  *namedBuffers(persistentOnly = false): Generator<[string, Tensor]> {
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, entry] of m.#buffers) {
        if (entry.tensor && (!persistentOnly || entry.persistent))
          yield [prefix ? `${prefix}.${name}` : name, entry.tensor];
      }
    }
  }

  buffers(): Tensor[] {
    return [...this.namedBuffers()].map(([, b]) => b);
  }

  /** Number of learnable scalars. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on this module and every descendant; returns this. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.modules()) fn(m);
    return this;
  }

  /** Releases every parameter's gradient. */
  zeroGrad(): void {
    zeroGrad(this.parameters());
  }

  /**
   * Moves parameters and buffers to a backend in place (the Parameter objects stay the same, so
   * optimizers created before keep working).
   */
  async to(backend: string): Promise<this> {
    await initBackend(backend);
    for (const t of [...this.parameters(), ...this.buffers()]) {
      if (t.device === backend) continue;
      const moved = await t.toAsync(backend);
      t.replaceData_(moved);
      moved.dispose();
    }
    return this;
  }

  /** Parameters and persistent buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, p] of this.namedParameters()) out[name] = p;
    for (const [name, b] of this.namedBuffers(true)) out[name] = b;
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. With `strict` (default)
   * missing and unexpected keys are errors; shapes must always match.
   */
  loadStateDict(dict: StateDict, { strict = true } = {}): { missing: string[]; unexpected: string[] } {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in dict));
    const unexpected = Object.keys(dict).filter((k) => !(k in own));
    if (strict && (missing.length || unexpected.length)) {
      const parts = [];
      if (missing.length) parts.push(`missing keys: ${missing.join(', ')}`);
      if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(', ')}`);
      throw new StateError(`loadStateDict: ${parts.join('; ')}`);
    }
    for (const [name, target] of Object.entries(own)) {
      const src = dict[name];
      if (!src) continue;
      if (src.rank !== target.rank || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new ShapeError(
          `loadStateDict: shape mismatch for '${name}': checkpoint ${fmtShape(src.shape)}, model ${fmtShape(target.shape)}`,
        );
      }
      noGrad(() => copy_(target, src.device === target.device ? src : src.to(target.device)));
    }
    return { missing, unexpected };
  }

  /** One line describing this module's settings (shown by toString). */
  extraRepr(): string {
    return '';
  }

  /** PyTorch-style summary: the module tree, then the parameter count. */
  toString(): string {
    const lines: string[] = [];
    const render = (m: Module, name: string, indent: string): void => {
      const kids = m.children().length ? [...m.namedChildren()] : [];
      const head = `${indent}${name ? `(${name}): ` : ''}${m.constructor.name}(${m.extraRepr()}`;
      if (!kids.length) {
        lines.push(`${head})`);
        return;
      }
      lines.push(head);
      for (const [n, k] of kids) render(k, n, `${indent}  `);
      lines.push(`${indent})`);
    };
    render(this, '', '');
    const n = this.numParameters();
    lines.push(`Trainable parameters: ${n.toLocaleString('en-US')}`);
    return lines.join('\n');
  }
}

/** Runs modules one after another. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }
  override forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      // A layer that can run together with the next one does (e.g. BatchNorm2d then ReLU).
      const fused = i + 1 < this.layers.length ? this.layers[i].fusedForward(this.layers[i + 1]) : undefined;
      if (fused) {
        h = fused(h);
        i++;
      } else h = this.layers[i].forward(h);
    }
    return h;
  }
  override *namedChildren(): Generator<[string, Module]> {
    for (const [i, m] of this.layers.entries()) yield [String(i), m];
  }
  get length(): number {
    return this.layers.length;
  }
  at(i: number): Module {
    return this.layers.at(i)!;
  }
}

/** A list of modules whose parameters are registered (call them yourself). */
export class ModuleList extends Module {
  readonly items: Module[];
  constructor(items: Module[] = []) {
    super();
    this.items = [...items];
  }
  push(m: Module): this {
    this.items.push(m);
    return this;
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): Module {
    return this.items.at(i)!;
  }
  override *namedChildren(): Generator<[string, Module]> {
    for (const [i, m] of this.items.entries()) yield [String(i), m];
  }
  override forward(): Tensor {
    throw new StateError('ModuleList: has no forward; iterate over its modules');
  }
}

/** Named modules whose parameters are registered. */
export class ModuleDict extends Module {
  readonly entries: Map<string, Module>;
  constructor(entries: Record<string, Module> = {}) {
    super();
    this.entries = new Map(Object.entries(entries));
  }
  get(name: string): Module | undefined {
    return this.entries.get(name);
  }
  set(name: string, m: Module): this {
    this.entries.set(name, m);
    return this;
  }
  override *namedChildren(): Generator<[string, Module]> {
    yield* this.entries;
  }
  override forward(): Tensor {
    throw new StateError('ModuleDict: has no forward; pick a module by name');
  }
}
