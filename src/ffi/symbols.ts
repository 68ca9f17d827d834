// Generated from native/include/lits.h by scripts/gen_ffi.ts: do not edit.
// Change the header, then run `deno task gen:ffi`.

/**
 * The one `Deno.dlopen` symbol table: one entry per function of
 * `native/include/lits.h`, in the header's order.
 *
 * Device memory travels as `"pointer"`; host memory (shapes, strides, output
 * scalars) as `"buffer"` so typed arrays pass without conversion.
 *
 * @module
 */

import { buf, type Callable, f32, f64, i32, i64, ptr, status, u64 } from "./table.ts";

/** The symbols of `lits.h` as Deno FFI declarations. */
export const symbols = {
  lits_last_error: { parameters: [], result: ptr },
  lits_abi_version: { parameters: [buf], ...status },
  lits_init: { parameters: [], ...status },
  lits_backend_info: { parameters: [buf, i64], ...status },
  lits_set_num_threads: { parameters: [i32], ...status },
  lits_get_num_threads: { parameters: [buf], ...status },
  lits_set_deterministic: { parameters: [i32], ...status },
  lits_get_deterministic: { parameters: [buf], ...status },
  lits_set_winograd: { parameters: [i32], ...status },
  lits_get_winograd: { parameters: [buf], ...status },
  lits_synchronize: { parameters: [], ...status },
  lits_alloc: { parameters: [i64, buf], ...status },
  lits_free: { parameters: [ptr], ...status },
  lits_memory_stats: { parameters: [buf], ...status },
  lits_empty_cache: { parameters: [], ...status },
  lits_copy_h2d: { parameters: [ptr, buf, i64], ...status },
  lits_copy_d2h: { parameters: [buf, ptr, i64], ...status },
  lits_copy_d2d: { parameters: [ptr, ptr, i64], ...status },
  lits_fill_f32: { parameters: [ptr, i64, f32], ...status },
  lits_fill_i32: { parameters: [ptr, i64, i32], ...status },
  lits_cast_i32_f32: { parameters: [ptr, ptr, i64], ...status },
  lits_cast_f32_i32: { parameters: [ptr, ptr, i64], ...status },
  lits_strided_copy: { parameters: [i32, buf, ptr, buf, ptr], ...status },
  lits_unary_f32: { parameters: [i32, ptr, ptr, i64, f32], ...status },
  lits_unary_backward_f32: { parameters: [i32, ptr, ptr, ptr, ptr, i64, f32], ...status },
  lits_binary_f32: { parameters: [i32, i32, buf, ptr, buf, ptr, buf, ptr], ...status },
  lits_where_f32: { parameters: [i32, buf, ptr, buf, ptr, buf, ptr, buf, ptr], ...status },
  lits_gather_f32: { parameters: [ptr, ptr, buf, ptr, i64, i64, i64, i64, i32], ...status },
  lits_scatter_add_f32: { parameters: [ptr, ptr, buf, ptr, i64, i64, i64, i64], ...status },
  lits_resample_f32: {
    parameters: [ptr, buf, buf, ptr, i64, i64, i64, i64, i32],
    ...status,
    optional: true,
  },
  lits_resample_backward_f32: {
    parameters: [ptr, buf, buf, ptr, i64, i64, i64, i64, i32],
    ...status,
    optional: true,
  },
  lits_maxpool_indices_f32: { parameters: [buf, ptr, ptr, ptr, i64], ...status, optional: true },
  lits_maxpool_indices_backward_f32: {
    parameters: [buf, ptr, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_max_unpool_f32: { parameters: [ptr, ptr, ptr, i64, i64, i64], ...status, optional: true },
  lits_max_unpool_backward_f32: {
    parameters: [ptr, ptr, ptr, i64, i64, i64],
    ...status,
    optional: true,
  },
  lits_sort_f32: { parameters: [ptr, ptr, i64, i64, i64, i64, i32], ...status },
  lits_sort_i32: { parameters: [ptr, ptr, i64, i64, i64, i64, i32], ...status },
  lits_reduce_f32: { parameters: [i32, ptr, ptr, i64, i64, i64], ...status },
  lits_argmax_f32: { parameters: [ptr, ptr, i64, i64, i64], ...status },
  lits_cumsum_f32: { parameters: [ptr, ptr, i64, i64, i64, i32], ...status },
  lits_softmax_f32: { parameters: [ptr, ptr, i64, i64, i64, i32], ...status },
  lits_softmax_backward_f32: { parameters: [ptr, ptr, ptr, i64, i64, i64, i32], ...status },
  lits_cross_entropy_f32: {
    parameters: [ptr, ptr, ptr, i64, i64, i64, i32, f32, i32, ptr],
    ...status,
  },
  lits_cross_entropy_backward_f32: {
    parameters: [ptr, ptr, ptr, i64, i64, i64, i32, f32, i32, ptr, ptr],
    ...status,
  },
  lits_gemm_f32: {
    parameters: [
      i32,
      i32,
      i64,
      i64,
      i64,
      f32,
      ptr,
      i64,
      ptr,
      i64,
      f32,
      ptr,
      i64,
      i64,
      i64,
      i64,
      i64,
    ],
    ...status,
  },
  lits_conv2d_forward_f32: { parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr], ...status },
  lits_conv2d_backward_data_f32: { parameters: [buf, ptr, ptr, ptr], ...status },
  lits_conv2d_backward_filter_f32: { parameters: [buf, ptr, ptr, i32, ptr, ptr], ...status },
  lits_conv2d_backward_bias_f32: { parameters: [ptr, ptr, i32, i32, i64], ...status },
  lits_maxpool2d_forward_f32: { parameters: [buf, ptr, ptr, i32, ptr, ptr], ...status },
  lits_maxpool2d_backward_f32: { parameters: [buf, ptr, ptr, ptr, ptr, ptr], ...status },
  lits_avgpool2d_forward_f32: { parameters: [buf, ptr, ptr, i32], ...status },
  lits_avgpool2d_backward_f32: { parameters: [buf, ptr, ptr, i32], ...status },
  lits_adaptive_avgpool2d_forward_f32: {
    parameters: [ptr, ptr, i32, i32, i32, i32, i32, i32],
    ...status,
  },
  lits_adaptive_avgpool2d_backward_f32: {
    parameters: [ptr, ptr, i32, i32, i32, i32, i32, i32],
    ...status,
  },
  lits_batchnorm2d_forward_train_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32, f32],
    ...status,
  },
  lits_batchnorm2d_forward_infer_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32],
    ...status,
  },
  lits_batchnorm2d_backward_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32],
    ...status,
  },
  lits_layer_norm_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, i64, i64, f32],
    ...status,
    optional: true,
  },
  lits_layer_norm_backward_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i64, i64],
    ...status,
    optional: true,
  },
  lits_fused_affine_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, i32, i32, i64, i32],
    ...status,
    optional: true,
  },
  lits_relu_mask_backward_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, ptr],
    ...status,
    optional: true,
  },
  lits_batchnorm2d_infer_coef_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, i32, f32],
    ...status,
    optional: true,
  },
  lits_batchnorm2d_stats_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32, f32],
    ...status,
    optional: true,
  },
  lits_batchnorm2d_backward_relu_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32],
    ...status,
    optional: true,
  },
  lits_conv2d_forward_moments_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_batchnorm2d_stats_from_moments_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i64, f32, f32],
    ...status,
    optional: true,
  },
  lits_rand_uniform_f32: { parameters: [ptr, i64, u64, u64, f32, f32], ...status },
  lits_rand_normal_f32: { parameters: [ptr, i64, u64, u64, f32, f32], ...status },
  lits_dropout_f32: { parameters: [ptr, ptr, ptr, i64, f32, u64, u64], ...status },
  lits_sgd_step_f32: { parameters: [ptr, ptr, ptr, i64, f32, f32, f32, i32, f32, i32], ...status },
  lits_adam_step_f32: {
    parameters: [ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, i32, i64],
    ...status,
  },
  lits_rmsprop_step_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, i32, i32],
    ...status,
    optional: true,
  },
  lits_adagrad_step_f32: {
    parameters: [ptr, ptr, ptr, i64, f64, f64, f64, i32],
    ...status,
    optional: true,
  },
  lits_adamax_step_f32: {
    parameters: [ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, i32],
    ...status,
    optional: true,
  },
  lits_nadam_step_f32: {
    parameters: [ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, f64, f64],
    ...status,
    optional: true,
  },
  lits_radam_step_f32: {
    parameters: [ptr, ptr, ptr, ptr, i64, f64, f64, f64, f64, f64, f64, f64, f64],
    ...status,
    optional: true,
  },
  lits_grid_sample2d_f32: {
    parameters: [ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, i32, i32, i32],
    ...status,
    optional: true,
  },
  lits_grid_sample2d_backward_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32, i32, i32, i32, i32, i32],
    ...status,
    optional: true,
  },
  lits_maxpool2d_backward_relu_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_prepared_bytes: { parameters: [buf, ptr], ...status, optional: true },
  lits_conv2d_forward_prepared_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_conv2d_forward_epilogue_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_conv2d_forward_epilogue_pool_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_squeeze_excitation_gate_f32: {
    parameters: [ptr, ptr, ptr, ptr, ptr, ptr, i32, i32, i32, i32],
    ...status,
    optional: true,
  },
  lits_conv2d_forward_epilogue_scaled_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_inverted_residual_f32: {
    parameters: [
      buf,
      buf,
      buf,
      ptr,
      ptr,
      ptr,
      ptr,
      ptr,
      ptr,
      ptr,
      ptr,
      i32,
      ptr,
      ptr,
      i64,
      ptr,
      i64,
    ],
    ...status,
    optional: true,
  },
  lits_conv2d_relu_maxpool2_takes: { parameters: [buf, buf], ...status, optional: true },
  lits_conv2d_relu_maxpool2_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_relu_maxpool2_bf16_takes: { parameters: [buf, buf], ...status, optional: true },
  lits_conv2d_relu_maxpool2_bf16_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_relu_maxpool3s2_takes: { parameters: [buf, i32, buf], ...status, optional: true },
  lits_conv2d_relu_maxpool3s2_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_relu_maxpool3s2_bf16_f32: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_bf16_support: { parameters: [buf], ...status, optional: true },
  lits_gemm_bf16_f32: {
    parameters: [i32, i32, i64, i64, i64, f32, ptr, i64, ptr, i64, f32, ptr, i64],
    ...status,
    optional: true,
  },
  lits_round_bf16_f32: { parameters: [ptr, ptr, i64], ...status, optional: true },
  lits_conv2d_forward_bf16_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_forward_epilogue_bf16_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr, ptr, ptr, ptr, i32, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_backward_data_bf16_f32: {
    parameters: [buf, ptr, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_conv2d_backward_filter_bf16_f32: {
    parameters: [buf, ptr, ptr, i32, ptr, ptr],
    ...status,
    optional: true,
  },
  lits_nhwc_bf16_from_nchw_f32: {
    parameters: [ptr, i32, i32, i64, ptr],
    ...status,
    optional: true,
  },
  lits_nhwc_bf16_to_nchw_f32: { parameters: [ptr, i32, i32, i64, ptr], ...status, optional: true },
  lits_conv2d_nhwc_bf16_takes: { parameters: [buf, i32, buf], ...status, optional: true },
  lits_conv2d_nhwc_bf16_prepared_bytes: { parameters: [buf, ptr], ...status, optional: true },
  lits_conv2d_nhwc_bf16: {
    parameters: [buf, ptr, ptr, ptr, ptr, ptr, i32, ptr, ptr, i64],
    ...status,
    optional: true,
  },
  lits_measure_fma_peak: { parameters: [f64, buf], ...status, optional: true },
  lits_measure_copy_bandwidth: { parameters: [i64, buf], ...status, optional: true },
  lits_measure_bf16_peak: { parameters: [f64, buf], ...status, optional: true },
  lits_measure_amx_peak: { parameters: [f64, buf], ...status, optional: true },
} as const;

/** The opened library's callable symbols. */
export type NativeSymbols = Callable<typeof symbols>;
