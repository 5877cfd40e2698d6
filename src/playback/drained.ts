import type { ServerResponse } from 'node:http';

/** Resolves when the browser's socket takes more bytes ('drain') or is gone ('close'): copy loops wait here, never forever. */
export function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
