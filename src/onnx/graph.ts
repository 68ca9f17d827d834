/**
 * An ONNX graph under construction: values with their static shapes, nodes
 * in execution order, initializers under their state-dict names. Shapes are
 * tracked so each layer can check its input as it is added and so the graph
 * output carries its shape.
 *
 * @module
 */
import type { Module } from "../layers/module.ts";
import type { Tensor } from "../tensor/tensor.ts";
import {
  attribute,
  type AttributeValue,
  DataType,
  type Dim,
  type NodeProto,
  type TensorProto,
} from "./proto.ts";

/** A value in the graph: its name and shape (the batch dimension may be symbolic). */
export interface Value {
  /** Unique name in the graph. */
  readonly name: string;
  /** Shape; a string is a symbolic dimension. */
  readonly shape: readonly Dim[];
}

/** Nodes, initializers and names of one graph. */
export class OnnxGraph {
  /** Nodes in execution order. */
  readonly nodes: NodeProto[] = [];
  /** Constant tensors (weights, buffers, shapes). */
  readonly initializers: TensorProto[] = [];
  readonly #names = new Set<string>();

  /** `base`, or `base_1`, `base_2`... when taken (a shared ReLU runs several times). */
  unique(base: string): string {
    let name = base, i = 0;
    while (this.#names.has(name)) name = `${base}_${++i}`;
    this.#names.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, shape: readonly Dim[]): Value {
    return { name: this.unique(name), shape };
  }

  /** A float initializer from a module's tensor (on any device) or from numbers. */
  floats(name: string, data: Tensor | Float32Array, dims?: readonly number[]): string {
    let array: Float32Array;
    if (data instanceof Float32Array) array = data;
    else {
      if (data.dtype !== "float32") {
        throw new Error(`exportOnnx: ${name} is ${data.dtype}; only float32 weights are exported`);
      }
      array = data.toArray() as Float32Array;
      dims ??= data.shape;
    }
    dims ??= [array.length];
    // raw_data is little-endian, as is every platform Deno runs on; the
    // arrays are fresh copies (toArray) or the exporter's own, so no copy here.
    const rawData = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    return this.#constant(name, DataType.FLOAT, dims, rawData);
  }

  /** A float scalar initializer (a constant of an elementwise formula). */
  scalar(name: string, value: number): string {
    return this.floats(name, new Float32Array([value]), []);
  }

  /** An int64 initializer (Reshape's target shape). */
  int64s(name: string, values: readonly number[]): string {
    const rawData = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
    return this.#constant(name, DataType.INT64, [values.length], rawData);
  }

  /** Bytes of all initializers so far. */
  get weightBytes(): number {
    return this.initializers.reduce((n, t) => n + (t.rawData?.length ?? 0), 0);
  }

  #constant(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dataType, dims: [...dims], rawData });
    return unique;
  }

  /**
   * Adds node `op` named `name` on `inputs` (value or initializer names);
   * returns its output, named as the node, with `shape`.
   */
  node(
    op: string,
    name: string,
    inputs: readonly string[],
    shape: readonly Dim[],
    attributes: Record<string, AttributeValue> = {},
  ): Value {
    const unique = this.unique(name);
    this.nodes.push({
      opType: op,
      name: unique,
      input: [...inputs],
      output: [unique],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return { name: unique, shape };
  }

  /** Makes `v`, which a node computed, the value named `name` (the graph output). */
  rename(v: Value, name: string): Value {
    const producer = this.nodes.findLast((n) => n.output?.[0] === v.name);
    if (!producer) throw new Error(`exportOnnx: no node computes ${v.name}`);
    if (this.#names.has(name)) throw new Error(`exportOnnx: the name ${name} is taken`);
    this.#names.add(name);
    producer.output = [name];
    return { name, shape: v.shape };
  }
}

/** Where an emitter is in the module tree, and how it descends. */
export interface Scope {
  /** The graph being built. */
  readonly graph: OnnxGraph;
  /** Dotted path of the module being emitted ("" for the root), as in the state dict. */
  readonly path: string;
  /** `path` joined with `name` ("layer1.0" + "conv1"). */
  at(name: string): string;
  /** Emits child `name` (the property holding `module`) on `x`. */
  child(name: string, module: Module, x: Value): Value;
}

/** How one module type becomes ONNX nodes: input value in, output value out. */
export type Emitter<M extends Module = Module> = (scope: Scope, module: M, x: Value) => Value;

/** `[N, 1, 64, 64]` for messages. */
export function shapeText(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}
