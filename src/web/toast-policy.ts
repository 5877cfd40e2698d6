// The toasts' damping rules now live in the pure core (src/core/damping-policy.ts), shared with
// the notifications (issue 16); the web keeps this module as its entry point.
export * from '../core/damping-policy';
