/** `combineDecisionHandlers`, for the observers: it lives in core/notify.ts, beside the fan-out it feeds. */
export { combineDecisionHandlers } from '../core/notify.js';
