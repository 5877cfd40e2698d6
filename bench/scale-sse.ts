// SSE readers for the scale benchmark: plain HTTP clients on GET /api/events (as EventSource would
// read it), timing every `engine` frame from the event's own timestamp (set by the reducer when the
// engine decided) to the moment this client has the whole frame. Snapshots are skipped unparsed.
import http from 'node:http';

export interface SseReaders {
  /** Latencies (ms) of engine frames received since the last reset, all clients together. */
  latencies: number[];
  /** Frames of each type received since the last reset, all clients together. */
  frames: Record<string, number>;
  /** Clients whose stream is open (snapshot received). */
  ready(): number;
  reset(): void;
  close(): void;
}

export function openSseReaders(baseUrl: string, count: number): SseReaders {
  const state: SseReaders = {
    latencies: [],
    frames: {},
    ready: () => open,
    reset() {
      state.latencies = [];
      state.frames = {};
    },
    close() {
      closed = true;
      for (const req of requests) req.destroy();
    },
  };
  let open = 0;
  let closed = false;
  const requests: http.ClientRequest[] = [];
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  for (let i = 0; i < count; i++) {
    // Each reader from its own loopback address, as separate browsers are (the app caps streams per address).
    const localAddress = `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`;
    const req = http.get(new URL('api/events', baseUrl), { agent, localAddress, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      let buffer = '';
      let gotSnapshot = false;
      res.on('data', (chunk: string) => {
        const now = Date.now();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const eventLine = /^event: (.*)$/m.exec(frame);
          if (!eventLine) continue;
          const type = eventLine[1]!;
          if (type === 'snapshot') {
            if (!gotSnapshot) open++;
            gotSnapshot = true;
            continue;
          }
          state.frames[type] = (state.frames[type] ?? 0) + 1;
          if (type !== 'engine') continue;
          const data = /^data: (.*)$/m.exec(frame);
          if (!data) continue;
          const message = JSON.parse(data[1]!) as { event?: { at?: number } };
          if (typeof message.event?.at === 'number') state.latencies.push(now - message.event.at);
        }
      });
      res.on('close', () => {
        if (gotSnapshot) open--;
      });
    });
    req.on('error', (err) => {
      if (!closed) process.stderr.write(`sse reader: ${err.message}\n`);
    });
    requests.push(req);
  }
  return state;
}
