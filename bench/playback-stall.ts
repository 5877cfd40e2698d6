// Benchmark — playback in Chromium (issue 15): the visible stall at a route cut and the time to
// first frame, on the real player page over the real runtime and the simulators, inside a private
// network namespace so the cut is a real nftables `drop` of the local route (see
// bench/scenarios/playback-stall.ts). Every figure sits beside its reference from the same run: the
// stall beside the engine's cut-detection time, the first frame beside the same file fetched
// directly from the simulated server (and from a plain loopback static server). In the held case the buffer ahead at the cut (and, for direct play,
// the bytes past the cut still on their way to the browser) is reported per trial.
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNetns } from '../test/support/net/netns.js';
import type { StallArgs, StallOutput, StallTrial } from './scenarios/playback-stall.js';
import { median, percentile, summarize } from './stats.js';
import type { Benchmark, BenchRow } from './types.js';

const scenario = path.join(path.dirname(fileURLToPath(import.meta.url)), 'scenarios', 'playback-stall.ts');

/** The held-buffer case: the local route's rate from the start of play, before the loop steers it (multiple of the clip's bitrate). */
const HELD_THROTTLE = 1.05;

const PROTOCOL = { direct: 'direct play (H.264, byte proxy)', hls: 'HLS (HEVC transcode, hls.js)' } as const;
const BUFFER = {
  default: "player's default buffer",
  held: 'buffer held at 1.8–2.2 s ahead (route steered at 0.5× / 1.05× / 1.5× the clip bitrate), cut after 1 s in the band (HLS: on entering it)',
} as const;

export const playbackStall: Benchmark = {
  name: 'playback-stall',
  description: 'Chromium on the player page: visible stall when the local route is cut (nft drop in a namespace), direct play and HLS, and time to first frame vs the same file fetched directly from the server',
  async run(options) {
    const args: StallArgs = options.quick ? { trials: 1, watchMs: 7_000, frameRounds: 5, heldThrottle: HELD_THROTTLE, heldWaitMs: 12_000 } : { trials: 3, watchMs: 14_000, frameRounds: 9, heldThrottle: HELD_THROTTLE, heldWaitMs: 20_000 };
    options.log(`${args.trials} trial(s) per case, ${args.watchMs / 1000} s watched after each cut, ${args.frameRounds} first-frame rounds`);
    const out = await runInNetns<StallOutput>(scenario, args, { timeoutMs: options.quick ? 150_000 : 600_000 });
    const load = `load average ${out.load[0].toFixed(1)} → ${out.load[1].toFixed(1)} on ${os.availableParallelism()} cores`;
    const detections = out.trials.map((t) => t.detectionMs).filter((d): d is number => d !== null);
    const detectionP95 = percentile(detections, 95);
    const rows: BenchRow[] = [];
    const det = summarize(detections);
    rows.push({ case: 'engine cut detection, same runs (nft drop → source off its local route; player-test cadences)', n: det.n, unit: 'ms', p50: det.p50, p95: det.p95, min: det.min, max: det.max, note: `${out.trials.length - detections.length} not detected within the watch; ${load}` });
    for (const protocol of ['direct', 'hls'] as const) {
      for (const buffer of ['default', 'held'] as const) {
        const trials = out.trials.filter((t) => t.protocol === protocol && t.buffer === buffer);
        const stalls = trials.map((t) => t.longestStallMs);
        const worst = stalls.length ? Math.max(...stalls) : null;
        const kept = trials.every((t) => t.lowestAfterCutSec >= -0.5 && t.advancedSec > args.watchMs / 2000 && t.stateAfter === 'playing');
        const clean = trials.every((t) => t.errors.length === 0);
        const goalMs = buffer === 'default' ? 0 : detectionP95 === null ? null : detectionP95 + 1_000;
        const describe = (t: StallTrial) =>
          `cut at ${t.atCutSec.toFixed(1)} s with ${describeAhead(t)}${describeHeld(t)} → stall ${Math.round(t.longestStallMs)} ms, +${t.advancedSec.toFixed(1)} s played, detection ${t.detectionMs === null ? '–' : Math.round(t.detectionMs)} ms${t.errors.length ? `, errors: ${t.errors.join(' | ').slice(0, 200)}` : ''}`;
        rows.push({
          case: `visible stall at a local-route cut — ${PROTOCOL[protocol]}, ${BUFFER[buffer]}`,
          n: trials.length,
          unit: 'ms',
          p50: median(stalls),
          p95: worst,
          goal: buffer === 'default' ? '0 ms, position kept, no error' : `≤ detection p95 + 1 s${goalMs === null ? '' : ` (${Math.round(goalMs)} ms)`}, kept, no error`,
          met: worst === null || goalMs === null ? null : worst <= goalMs && kept && clean,
          note: `p95 column = longest of the trials; position kept and playing: ${kept ? 'yes' : 'NO'}; error events/console errors: ${clean ? 'none' : 'YES'}; ${trials.map(describe).join('; ')}`,
        });
      }
    }
    for (const protocol of ['direct', 'hls'] as const) {
      const trials = out.trials.filter((t) => t.protocol === protocol && t.buffer === 'held');
      // Direct play: what the received bytes can play (the clip's packet index), the figure the loop steers on; HLS: the MSE buffer.
      const heldAhead = (t: StallTrial) => (protocol === 'direct' ? (t.playableAheadSec ?? 0) : t.bufferedAheadSec);
      const aheadMs = trials.map((t) => heldAhead(t) * 1000);
      const s = summarize(aheadMs);
      const band = `${out.heldSettings.lowSec}–${out.heldSettings.highSec} s`;
      const inFlight = trials.filter((t) => t.inFlightBytes !== null && t.inFlightSec !== null);
      rows.push({
        case: `held buffer: ahead in the browser at the cut — ${PROTOCOL[protocol]} (${protocol === 'direct' ? "what the received bytes play beyond currentTime, by the clip's packet index" : 'buffered end − currentTime'})`,
        unit: 'ms',
        ...s, // n, p50, p95, min, max
        goal: `in ${band}, held there by the loop`,
        met: trials.length === 0 ? null : trials.every((t) => t.held?.reached === true && heldAhead(t) >= out.heldSettings.lowSec && heldAhead(t) <= out.heldSettings.highSec),
        note: `band reached in ${trials.filter((t) => t.held?.reached).length} of ${trials.length} (else cut when the wait ran out)${
          protocol === 'direct'
            ? `; Chromium's own buffered end − currentTime at the same cuts: ${trials.map((t) => `${t.bufferedAheadSec.toFixed(2)} s`).join(', ')} (received bytes mapped linearly, the ~125 KB moov included); bytes past the cut still on their way to the browser (where the proxy resumed − what Chromium had received): ${inFlight.length ? inFlight.map((t) => `${Math.round(t.inFlightBytes! / 1024)} KB = ${Math.round(t.inFlightSec! * 1000)} ms of media`).join(', ') : 'not measured'}`
            : '; HLS: whole segments, not measured in bytes'
        }`,
      });
    }
    const ff = out.firstFrame;
    // "The same file fetched directly" (issue 15): from the server itself, what the proxy fetches.
    const direct = median(ff.server);
    for (const [kind, label] of [
      ['server', 'time to first frame — the same file directly from the simulated Plex over its local route (reference)'],
      ['direct', 'time to first frame — the same clip from a plain loopback static server (second reference)'],
      ['proxyPage', 'time to first frame — plain <video src> on Marquee’s stream URL (byte proxy alone)'],
      ['playerPage', 'time to first frame — Marquee’s player page /play/{source}/{item} opened cold (app boot + POST /api/play + proxy)'],
      ['clickPlay', 'time to first frame — click on Play on the item page already loaded in the app (what a user waits)'],
    ] as const) {
      const s = summarize(ff[kind]);
      const ratio = direct && s.p50 !== null ? s.p50 / direct : null;
      rows.push({
        case: label,
        unit: 'ms',
        ...s, // n, p50, p95, min, max
        ...(kind === 'server'
          ? { note: `navigation start → loadeddata, ${s.n} interleaved rounds (order alternating), ${out.clipKbps.toFixed(0)} kbit/s clip` }
          : kind === 'direct'
          ? { note: `median ${ratio?.toFixed(2)}× the server: what the simulated server's own handling adds or saves` }
          : {
              note: `median ${ratio?.toFixed(2)}× direct${kind === 'playerPage' ? `; of which navigation → the video's src set (app boot, POST /api/play) ${median(out.playerSrcSet)?.toFixed(0)} ms` : ''}${
                kind === 'clickPlay' ? `; click → loadeddata; of which click → the video's src set (player page render, POST /api/play) ${median(out.clickSrcSet)?.toFixed(0)} ms` : ''
              }`,
            }),
        ...(kind === 'server' || kind === 'direct' ? {} : { goal: '≤ 1.1× direct', met: ratio === null ? null : ratio <= 1.1 }),
      });
    }
    return rows;
  },
};

/** What was ahead at the cut: Chromium's `buffered`, and for direct play what the received bytes really play plus what was still in flight. */
function describeAhead(t: StallTrial): string {
  const buffered = `${t.bufferedAheadSec.toFixed(2)} s buffered ahead`;
  if (t.playableAheadSec === null) return buffered;
  const inFlight = t.inFlightBytes === null || t.inFlightSec === null ? '' : ` + ${Math.round(t.inFlightSec * 1000)} ms of media in flight (${Math.round(t.inFlightBytes / 1024)} KB)`;
  return `${t.playableAheadSec.toFixed(2)} s playable ahead${inFlight} (${buffered})`;
}

/** The held case's loop: how it ended. */
function describeHeld(t: StallTrial): string {
  if (!t.held) return '';
  const h = t.held;
  const loop = h.reached ? `held ${Math.round(h.inBandMs)} ms in the band after ${(h.steeredMs / 1000).toFixed(1)} s of steering` : `band NOT held within ${(h.steeredMs / 1000).toFixed(1)} s`;
  return ` — ${loop}, ${h.rateChanges} rate changes, ${h.rateAtCut}× at the cut`;
}
