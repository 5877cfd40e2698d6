/**
 * An event handler made from an async function. React ignores the promise a handler returns, so a
 * rejection would only surface as an "unhandled rejection"; the handlers in this UI catch and show
 * their own errors, and this logs in words anything that still escapes.
 */
export function asyncHandler<Args extends unknown[]>(run: (...args: Args) => Promise<unknown>): (...args: Args) => void {
  return (...args) => {
    run(...args).catch((error: unknown) => {
      console.error('Marquee UI: an action failed unexpectedly', error);
    });
  };
}
