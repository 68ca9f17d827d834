/**
 * Every volume transform class: the one list `volume.fromSpec`'s registry
 * is built from, so exporting a class here is what registers it.
 *
 * @module
 */
export * from "./croppad.ts";
export * from "./intensity.ts";
export * from "./spatial.ts";
