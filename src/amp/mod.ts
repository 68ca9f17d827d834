/**
 * Mixed precision, as `torch.amp`: `autocast` (bf16 autocast; also at the
 * top level) and `GradScaler` (dynamic loss scaling, which bf16 does not
 * need but PyTorch's AMP loops call).
 *
 * @module
 */
export { autocast, type AutocastDtype, type AutocastOptions } from "../tensor/autocast.ts";
export { GradScaler, type GradScalerOptions, type GradScalerStateDict } from "./grad_scaler.ts";
