/**
 * The ONNX protobuf messages, from npm `onnx-proto` (MIT): ONNX's published
 * `onnx.proto` (v1.10.2, IR version 8) compiled by protobufjs. Everything
 * that touches the wire format is here; the rest of the exporter builds
 * plain objects of these message types.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- pinned, as the project's other npm imports; no import map
import onnxProto from "npm:onnx-proto@8.0.1";

/** The compiled `onnx` package of onnx.proto. */
export const onnx = onnxProto.onnx;

/** A node as onnx.proto's NodeProto. */
export type NodeProto = onnxProto.onnx.INodeProto;
/** An attribute as onnx.proto's AttributeProto. */
export type AttributeProto = onnxProto.onnx.IAttributeProto;
/** A tensor as onnx.proto's TensorProto. */
export type TensorProto = onnxProto.onnx.ITensorProto;
/** A typed, shaped graph input or output as onnx.proto's ValueInfoProto. */
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
/** A whole model as onnx.proto's ModelProto. */
export type ModelProto = onnxProto.onnx.IModelProto;

/**
 * The operator set the graphs use: 17 (ONNX 1.12, 2022) is read by every
 * ONNX Runtime since 1.12 (onnxruntime-web included) and is the newest that
 * IR version 8, the one this schema knows, covers.
 */
export const OPSET = 17;
/** IR version 8 (ONNX 1.10 to 1.12), the schema's own. */
export const IR_VERSION = 8;

const AttributeType = onnx.AttributeProto.AttributeType;
/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: onnx.TensorProto.DataType.FLOAT, INT64: 7 } as const;

/**
 * An attribute value: an integer, a float (marked by `{ f }`), a list of
 * integers, or a string (Resize's modes).
 */
export type AttributeValue = number | readonly number[] | { f: number } | string;

/** An AttributeProto with its type set, as IR version 8 requires. */
export function attribute(name: string, value: AttributeValue): AttributeProto {
  // onnx.proto keeps strings as bytes; its text is UTF-8.
  if (typeof value === "string") {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`ONNX attribute ${name}: ${value} is no integer`);
    return { name, type: AttributeType.INT, i: value };
  }
  if (Array.isArray(value)) return { name, type: AttributeType.INTS, ints: [...value] };
  return { name, type: AttributeType.FLOAT, f: (value as { f: number }).f };
}

/** A dimension: a number, or a string naming a symbolic one (the batch, "N"). */
export type Dim = number | string;

/** A float tensor's ValueInfoProto with its (partly symbolic) shape. */
export function valueInfo(name: string, shape: readonly Dim[]): ValueInfoProto {
  const dim = shape.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d });
  return { name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim } } } };
}

/** Serialises a model to its protobuf bytes. */
export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** A graph input or output as `decodeModel` gives it. */
export interface DecodedValueInfo {
  /** Value name. */
  name: string;
  /** Element type and shape (a dimension has a value or a symbolic name). */
  type: {
    tensorType: { elemType: number; shape: { dim: { dimValue?: number; dimParam?: string }[] } };
  };
}

/** The fields of a model that a reader checks, as `decodeModel` gives them. */
export interface DecodedModel {
  /** IR version. */
  irVersion: number;
  /** Operator sets imported. */
  opsetImport: { domain: string; version: number }[];
  /** Key-value metadata. */
  metadataProps: { key: string; value: string }[];
  /** The graph. */
  graph: {
    node: {
      name: string;
      opType: string;
      input: string[];
      output: string[];
      attribute: {
        name: string;
        type: number;
        i: number;
        f: number;
        s: Uint8Array;
        ints: number[];
      }[];
    }[];
    initializer: { name: string; dataType: number; dims: number[]; rawData: Uint8Array }[];
    input: DecodedValueInfo[];
    output: DecodedValueInfo[];
  };
}

/**
 * Parses protobuf bytes as a model: a plain object with onnx.proto's field
 * names in camelCase, int64s as numbers and empty lists present (for tests
 * and tools that read a file back).
 */
export function decodeModel(bytes: Uint8Array): DecodedModel {
  const options = { longs: Number, arrays: true, defaults: true };
  return onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), options) as DecodedModel;
}
