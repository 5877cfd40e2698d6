// A minimal Server-Sent Events reader over real HTTP for the crash suite: keeps every message,
// waits (bounded) for one that matches, closes on demand.

export interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

export class SseStream {
  readonly messages: SseMessage[] = [];
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private ended = false;

  private constructor() {}

  static async open(url: string): Promise<SseStream> {
    const stream = new SseStream();
    const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: stream.abort.signal });
    if (res.status !== 200 || !res.body) throw new Error(`SSE ${url}: HTTP ${res.status}`);
    void stream.pump(res.body);
    return stream;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      const reader = body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message: SseMessage = { event: 'message', data: '' };
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) continue; // heartbeat comment
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') message.event = value;
            else if (field === 'id') message.id = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0) continue;
          message.data = data.join('\n');
          this.messages.push(message);
        }
        for (const w of [...this.waiters]) w();
      }
    } catch {
      // aborted or the server went away
    } finally {
      this.ended = true;
      for (const w of [...this.waiters]) w();
    }
  }

  /** Resolves with the parsed data of the first message from index `from` on that matches. */
  waitFor<T>(what: string, match: (m: SseMessage) => boolean, timeoutMs: number, from = 0): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const found = this.messages.slice(from).find(match);
        if (found) {
          done();
          resolve(JSON.parse(found.data) as T);
        } else if (this.ended) {
          done();
          reject(new Error(`SSE ended before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`SSE: no ${what} within ${timeoutMs} ms (got events: ${this.messages.map((m) => m.event).join(', ')})`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  close(): void {
    this.abort.abort();
  }
}
