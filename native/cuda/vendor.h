/*
 * vendor.h: the parts of cuBLAS 13 and cuDNN 9 (legacy API) that the CUDA
 * backend uses, declared here from NVIDIA's documentation because the build
 * machines have neither library's headers. The libraries are opened at run
 * time (loader.cu); every function is reached through the table `lc_vendor`.
 *
 * Only the enum values we pass or test are listed. Status enums have a fixed
 * `int` underlying type so that any value the library returns is valid, and
 * the text of a status always comes from the library itself
 * (cublasGetStatusString, cudnnGetErrorString).
 *
 * Layouts that cross the boundary by value or through arrays (the algorithm
 * perf structs) are checked with static_assert against the documented sizes.
 */
#ifndef LITS_CUDA_VENDOR_H
#define LITS_CUDA_VENDOR_H

#include <cuda_runtime_api.h>
#include <library_types.h> /* cudaDataType, libraryPropertyType (CUDA toolkit) */
#include <stddef.h>
#include <stdint.h>

/* ---- cuBLAS (cublas_api.h, cuBLAS 13) ----------------------------------- */

typedef struct cublasContext* cublasHandle_t;

enum cublasStatus_t : int { CUBLAS_STATUS_SUCCESS = 0 };

enum cublasOperation_t : int { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };

/* DEFAULT: full fp32 products; TF32_TENSOR_OP: lets cublasSgemm use TF32. */
enum cublasMath_t : int { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 };

enum cublasComputeType_t : int { CUBLAS_COMPUTE_32F = 68, CUBLAS_COMPUTE_32F_FAST_TF32 = 77 };

enum cublasGemmAlgo_t : int { CUBLAS_GEMM_DEFAULT = -1 };

/* ---- cuDNN (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h, cuDNN 9) ----------- */

typedef struct cudnnContext* cudnnHandle_t;
typedef struct cudnnTensorStruct* cudnnTensorDescriptor_t;
typedef struct cudnnFilterStruct* cudnnFilterDescriptor_t;
typedef struct cudnnConvolutionStruct* cudnnConvolutionDescriptor_t;

enum cudnnStatus_t : int { CUDNN_STATUS_SUCCESS = 0 };
/* BFLOAT16 (compute capability 8.0+) for autocast's tensors and filters;
 * the convolution's compute type stays FLOAT (conv_plan.cu). */
enum cudnnDataType_t : int { CUDNN_DATA_FLOAT = 0, CUDNN_DATA_BFLOAT16 = 9 };
enum cudnnTensorFormat_t : int { CUDNN_TENSOR_NCHW = 0 };
enum cudnnConvolutionMode_t : int { CUDNN_CROSS_CORRELATION = 1 };
/* DEFAULT allows TF32 tensor cores for fp32 on Ampere and later; FMA does not.
 * TENSOR_OP asks for tensor cores (bf16 data, as PyTorch sets it). */
enum cudnnMathType_t : int { CUDNN_DEFAULT_MATH = 0, CUDNN_TENSOR_OP_MATH = 1, CUDNN_FMA_MATH = 3 };
enum cudnnBatchNormMode_t : int { CUDNN_BATCHNORM_SPATIAL = 1 };
enum cudnnDeterminism_t : int { CUDNN_NON_DETERMINISTIC = 0, CUDNN_DETERMINISTIC = 1 };

/* Algorithm ids are opaque to us (Find returns them, we pass them back)
 * except the Winograd ones, which lits_set_winograd(0) leaves out (values as
 * cudnn.h's). The counts bound the workspace-size queries. */
enum cudnnConvolutionFwdAlgo_t : int {
  CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD = 6,
  CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED = 7,
  CUDNN_CONVOLUTION_FWD_ALGO_COUNT = 8
};
enum cudnnConvolutionBwdDataAlgo_t : int {
  CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD = 4,
  CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED = 5,
  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT = 6
};
enum cudnnConvolutionBwdFilterAlgo_t : int {
  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD = 4,
  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED = 5,
  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 7
};

/* The three perf structs share one layout: algo, status, time (ms), workspace
 * bytes, determinism, math type, 3 reserved ints. cudnn.h spells it three
 * times; one template here, so a field cannot differ between them. */
template <typename Algo>
struct cudnnAlgoPerf {
  Algo algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  cudnnDeterminism_t determinism;
  cudnnMathType_t mathType;
  int reserved[3];
};
using cudnnConvolutionFwdAlgoPerf_t = cudnnAlgoPerf<cudnnConvolutionFwdAlgo_t>;
using cudnnConvolutionBwdDataAlgoPerf_t = cudnnAlgoPerf<cudnnConvolutionBwdDataAlgo_t>;
using cudnnConvolutionBwdFilterAlgoPerf_t = cudnnAlgoPerf<cudnnConvolutionBwdFilterAlgo_t>;

static_assert(sizeof(cublasStatus_t) == 4 && sizeof(cudnnStatus_t) == 4, "status enums are C ints");
static_assert(sizeof(cudnnConvolutionFwdAlgo_t) == 4 && sizeof(cudnnMathType_t) == 4,
              "cuDNN enums are C ints");
static_assert(sizeof(cudnnConvolutionFwdAlgoPerf_t) == 48, "cudnnConvolutionFwdAlgoPerf_t layout");
static_assert(offsetof(cudnnConvolutionFwdAlgoPerf_t, memory) == 16, "perf.memory offset");
static_assert(offsetof(cudnnConvolutionFwdAlgoPerf_t, mathType) == 28, "perf.mathType offset");
static_assert(sizeof(cudnnConvolutionBwdDataAlgoPerf_t) == 48, "BwdDataAlgoPerf layout");
static_assert(sizeof(cudnnConvolutionBwdFilterAlgoPerf_t) == 48, "BwdFilterAlgoPerf layout");
static_assert(sizeof(cudaDataType) == 4 && CUDA_R_32F == 0 && CUDA_R_16BF == 14, "cudaDataType");

/* ---- the function table ---------------------------------------------------- */

/* X(return type, name, parameter list): every vendor function we call. The
 * loader resolves each with dlsym; a missing one is an error at lits_init. */
#define LC_CUBLAS_FUNCTIONS(X)                                                                   \
  X(cublasStatus_t, cublasCreate_v2, (cublasHandle_t * handle))                                  \
  X(cublasStatus_t, cublasDestroy_v2, (cublasHandle_t handle))                                   \
  X(cublasStatus_t, cublasSetStream_v2, (cublasHandle_t handle, cudaStream_t stream))            \
  X(cublasStatus_t, cublasSetWorkspace_v2, (cublasHandle_t handle, void* ws, size_t bytes))      \
  X(cublasStatus_t, cublasSetMathMode, (cublasHandle_t handle, cublasMath_t mode))               \
  X(cublasStatus_t, cublasGetProperty, (libraryPropertyType type, int* value))                   \
  X(const char*, cublasGetStatusString, (cublasStatus_t status))                                 \
  X(cublasStatus_t, cublasGemmEx,                                                                \
    (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,    \
     int k, const void* alpha, const void* A, cudaDataType Atype, int lda, const void* B,        \
     cudaDataType Btype, int ldb, const void* beta, void* C, cudaDataType Ctype, int ldc,        \
     cublasComputeType_t computeType, cublasGemmAlgo_t algo))                                    \
  X(cublasStatus_t, cublasGemmStridedBatchedEx,                                                  \
    (cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,    \
     int k, const void* alpha, const void* A, cudaDataType Atype, int lda, long long strideA,    \
     const void* B, cudaDataType Btype, int ldb, long long strideB, const void* beta, void* C,   \
     cudaDataType Ctype, int ldc, long long strideC, int batchCount,                             \
     cublasComputeType_t computeType, cublasGemmAlgo_t algo))

#define LC_CUDNN_FUNCTIONS(X)                                                                    \
  X(size_t, cudnnGetVersion, (void))                                                             \
  X(size_t, cudnnGetCudartVersion, (void))                                                       \
  X(const char*, cudnnGetErrorString, (cudnnStatus_t status))                                    \
  X(cudnnStatus_t, cudnnCreate, (cudnnHandle_t * handle))                                        \
  X(cudnnStatus_t, cudnnDestroy, (cudnnHandle_t handle))                                         \
  X(cudnnStatus_t, cudnnSetStream, (cudnnHandle_t handle, cudaStream_t stream))                  \
  X(cudnnStatus_t, cudnnCreateTensorDescriptor, (cudnnTensorDescriptor_t * desc))                \
  X(cudnnStatus_t, cudnnDestroyTensorDescriptor, (cudnnTensorDescriptor_t desc))                 \
  X(cudnnStatus_t, cudnnSetTensor4dDescriptor,                                                   \
    (cudnnTensorDescriptor_t desc, cudnnTensorFormat_t format, cudnnDataType_t type, int n,      \
     int c, int h, int w))                                                                       \
  X(cudnnStatus_t, cudnnCreateFilterDescriptor, (cudnnFilterDescriptor_t * desc))                \
  X(cudnnStatus_t, cudnnDestroyFilterDescriptor, (cudnnFilterDescriptor_t desc))                 \
  X(cudnnStatus_t, cudnnSetFilter4dDescriptor,                                                   \
    (cudnnFilterDescriptor_t desc, cudnnDataType_t type, cudnnTensorFormat_t format, int k,      \
     int c, int h, int w))                                                                       \
  X(cudnnStatus_t, cudnnCreateConvolutionDescriptor, (cudnnConvolutionDescriptor_t * desc))      \
  X(cudnnStatus_t, cudnnDestroyConvolutionDescriptor, (cudnnConvolutionDescriptor_t desc))       \
  X(cudnnStatus_t, cudnnSetConvolution2dDescriptor,                                              \
    (cudnnConvolutionDescriptor_t desc, int pad_h, int pad_w, int u, int v, int dilation_h,      \
     int dilation_w, cudnnConvolutionMode_t mode, cudnnDataType_t computeType))                  \
  X(cudnnStatus_t, cudnnSetConvolutionGroupCount,                                                \
    (cudnnConvolutionDescriptor_t desc, int groupCount))                                         \
  X(cudnnStatus_t, cudnnSetConvolutionMathType,                                                  \
    (cudnnConvolutionDescriptor_t desc, cudnnMathType_t mathType))                               \
  X(cudnnStatus_t, cudnnGetConvolution2dForwardOutputDim,                                        \
    (const cudnnConvolutionDescriptor_t desc, const cudnnTensorDescriptor_t x,                   \
     const cudnnFilterDescriptor_t w, int* n, int* c, int* h, int* wd))                          \
  X(cudnnStatus_t, cudnnGetConvolutionForwardAlgorithmMaxCount, (cudnnHandle_t h, int* count))   \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardDataAlgorithmMaxCount,                             \
    (cudnnHandle_t h, int* count))                                                               \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardFilterAlgorithmMaxCount,                           \
    (cudnnHandle_t h, int* count))                                                               \
  X(cudnnStatus_t, cudnnGetConvolutionForwardWorkspaceSize,                                      \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnFilterDescriptor_t w,          \
     const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t y,                   \
     cudnnConvolutionFwdAlgo_t algo, size_t* bytes))                                             \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardDataWorkspaceSize,                                 \
    (cudnnHandle_t h, const cudnnFilterDescriptor_t w, const cudnnTensorDescriptor_t dy,         \
     const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dx,                  \
     cudnnConvolutionBwdDataAlgo_t algo, size_t* bytes))                                         \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardFilterWorkspaceSize,                               \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t x, const cudnnTensorDescriptor_t dy,         \
     const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dw,                  \
     cudnnConvolutionBwdFilterAlgo_t algo, size_t* bytes))                                       \
  X(cudnnStatus_t, cudnnFindConvolutionForwardAlgorithmEx,                                       \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const void* x,                           \
     const cudnnFilterDescriptor_t wd, const void* w, const cudnnConvolutionDescriptor_t conv,   \
     const cudnnTensorDescriptor_t yd, void* y, const int requested, int* returned,              \
     cudnnConvolutionFwdAlgoPerf_t* perf, void* ws, size_t ws_bytes))                            \
  X(cudnnStatus_t, cudnnFindConvolutionBackwardDataAlgorithmEx,                                  \
    (cudnnHandle_t h, const cudnnFilterDescriptor_t wd, const void* w,                           \
     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t conv, \
     const cudnnTensorDescriptor_t dxd, void* dx, const int requested, int* returned,            \
     cudnnConvolutionBwdDataAlgoPerf_t* perf, void* ws, size_t ws_bytes))                        \
  X(cudnnStatus_t, cudnnFindConvolutionBackwardFilterAlgorithmEx,                                \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const void* x,                           \
     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t conv, \
     const cudnnFilterDescriptor_t dwd, void* dw, const int requested, int* returned,            \
     cudnnConvolutionBwdFilterAlgoPerf_t* perf, void* ws, size_t ws_bytes))                      \
  /* Heuristics without timing (cudnn_cnn.h): deterministic mode picks from these. */             \
  X(cudnnStatus_t, cudnnGetConvolutionForwardAlgorithm_v7,                                       \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const cudnnFilterDescriptor_t wd,        \
     const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t yd,                  \
     const int requested, int* returned, cudnnConvolutionFwdAlgoPerf_t* perf))                   \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardDataAlgorithm_v7,                                  \
    (cudnnHandle_t h, const cudnnFilterDescriptor_t wd, const cudnnTensorDescriptor_t dyd,       \
     const cudnnConvolutionDescriptor_t conv, const cudnnTensorDescriptor_t dxd,                 \
     const int requested, int* returned, cudnnConvolutionBwdDataAlgoPerf_t* perf))               \
  X(cudnnStatus_t, cudnnGetConvolutionBackwardFilterAlgorithm_v7,                                \
    (cudnnHandle_t h, const cudnnTensorDescriptor_t xd, const cudnnTensorDescriptor_t dyd,       \
     const cudnnConvolutionDescriptor_t conv, const cudnnFilterDescriptor_t dwd,                 \
     const int requested, int* returned, cudnnConvolutionBwdFilterAlgoPerf_t* perf))             \
  X(cudnnStatus_t, cudnnConvolutionForward,                                                      \
    (cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,        \
     const cudnnFilterDescriptor_t wd, const void* w, const cudnnConvolutionDescriptor_t conv,   \
     cudnnConvolutionFwdAlgo_t algo, void* ws, size_t ws_bytes, const void* beta,                \
     const cudnnTensorDescriptor_t yd, void* y))                                                 \
  X(cudnnStatus_t, cudnnConvolutionBackwardData,                                                 \
    (cudnnHandle_t h, const void* alpha, const cudnnFilterDescriptor_t wd, const void* w,        \
     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t conv, \
     cudnnConvolutionBwdDataAlgo_t algo, void* ws, size_t ws_bytes, const void* beta,            \
     const cudnnTensorDescriptor_t dxd, void* dx))                                               \
  X(cudnnStatus_t, cudnnConvolutionBackwardFilter,                                               \
    (cudnnHandle_t h, const void* alpha, const cudnnTensorDescriptor_t xd, const void* x,        \
     const cudnnTensorDescriptor_t dyd, const void* dy, const cudnnConvolutionDescriptor_t conv, \
     cudnnConvolutionBwdFilterAlgo_t algo, void* ws, size_t ws_bytes, const void* beta,          \
     const cudnnFilterDescriptor_t dwd, void* dw))                                               \
  X(cudnnStatus_t, cudnnBatchNormalizationForwardTraining,                                       \
    (cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,            \
     const cudnnTensorDescriptor_t xd, const void* x, const cudnnTensorDescriptor_t yd, void* y, \
     const cudnnTensorDescriptor_t bnd, const void* scale, const void* bias, double factor,      \
     void* running_mean, void* running_var, double eps, void* save_mean, void* save_invvar))     \
  X(cudnnStatus_t, cudnnBatchNormalizationForwardInference,                                      \
    (cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,            \
     const cudnnTensorDescriptor_t xd, const void* x, const cudnnTensorDescriptor_t yd, void* y, \
     const cudnnTensorDescriptor_t bnd, const void* scale, const void* bias, const void* mean,   \
     const void* var, double eps))                                                               \
  X(cudnnStatus_t, cudnnBatchNormalizationBackward,                                              \
    (cudnnHandle_t h, cudnnBatchNormMode_t mode, const void* alpha_data, const void* beta_data,  \
     const void* alpha_param, const void* beta_param, const cudnnTensorDescriptor_t xd,          \
     const void* x, const cudnnTensorDescriptor_t dyd, const void* dy,                           \
     const cudnnTensorDescriptor_t dxd, void* dx, const cudnnTensorDescriptor_t bnd,             \
     const void* scale, void* dscale, void* dbias, double eps, const void* save_mean,            \
     const void* save_invvar))

#define LC_DECLARE_POINTER(ret, name, params) ret(*name) params;

/* Resolved vendor functions; filled by lc_load_vendor (loader.cu). */
struct lc_vendor_table {
  LC_CUBLAS_FUNCTIONS(LC_DECLARE_POINTER)
  LC_CUDNN_FUNCTIONS(LC_DECLARE_POINTER)
};

extern lc_vendor_table lc_vendor;

#endif /* LITS_CUDA_VENDOR_H */
