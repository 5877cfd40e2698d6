// Every timer the simulation starts goes through here so close() can clear them all at once.
export class Timers {
  private readonly active = new Set<NodeJS.Timeout>();

  timeout(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = setTimeout(() => {
      this.active.delete(handle);
      fn();
    }, ms);
    this.active.add(handle);
    return handle;
  }

  interval(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = setInterval(fn, ms);
    this.active.add(handle);
    return handle;
  }

  clear(handle: NodeJS.Timeout | undefined): void {
    if (handle === undefined) return;
    clearTimeout(handle);
    clearInterval(handle);
    this.active.delete(handle);
  }

  /** Resolves after ms; never resolves if the simulation closes first (the socket is gone anyway). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timeout(resolve, ms));
  }

  clearAll(): void {
    for (const handle of this.active) {
      clearTimeout(handle);
      clearInterval(handle);
    }
    this.active.clear();
  }
}
