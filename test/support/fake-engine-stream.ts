// Engine events straight into a subscriber (the notification service): the engine's stream without
// an engine. `getSource` knows no source, as the service only needs the events.
import type { EngineEvent } from '../../src/core/types.js';
import type { EngineStreamMessage } from '../../src/monitor/engine-types.js';

export class FakeEngineStream {
  private listeners: Array<(m: EngineStreamMessage) => void> = [];
  private seq = 0;
  subscribe(listener: (m: EngineStreamMessage) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  getSource() {
    return null;
  }
  emit(event: EngineEvent): void {
    for (const l of this.listeners) l({ type: 'engine', message: { seq: ++this.seq, event, source: null } });
  }
}
