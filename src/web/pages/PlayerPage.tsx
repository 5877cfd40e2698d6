import type Hls from 'hls.js';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ApiPlaySession } from '../../api/types';
import { ArrowLeftIcon, PlayIcon } from '../components/Icons';
import { ApiRequestError, apiFetch, errorMessage } from '../lib/api';
import { bufferedSpans, connectionLine, formatPlayTime, loadHls, seekTarget, shortcutFor } from '../lib/player';
import { createPlaySession, stopPlaySession, takeEarlyPlay } from '../lib/play-session';
import { href } from '../lib/router';

/** Position reports while playing (the servers expect one about every 10 s). */
const PROGRESS_EVERY_MS = 10_000;
/** The connection line and `generation` are refreshed this often. */
const SESSION_POLL_MS = 2_000;

/**
 * hls.js, patient with a route change: Marquee fetches each segment over whichever route is
 * current, so a request may take a failover's time; retries rather than a fatal error.
 */
const HLS_CONFIG = {
  // Hold a generous buffer ahead: it is what carries playback over a route cut.
  maxBufferLength: 60,
  backBufferLength: 30,
  manifestLoadPolicy: { default: { maxTimeToFirstByteMs: 10_000, maxLoadTimeMs: 20_000, timeoutRetry: { maxNumRetry: 4, retryDelayMs: 500, maxRetryDelayMs: 4_000 }, errorRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 4_000 } } },
  playlistLoadPolicy: { default: { maxTimeToFirstByteMs: 10_000, maxLoadTimeMs: 20_000, timeoutRetry: { maxNumRetry: 4, retryDelayMs: 500, maxRetryDelayMs: 4_000 }, errorRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 4_000 } } },
  fragLoadPolicy: { default: { maxTimeToFirstByteMs: 10_000, maxLoadTimeMs: 60_000, timeoutRetry: { maxNumRetry: 6, retryDelayMs: 500, maxRetryDelayMs: 4_000 }, errorRetry: { maxNumRetry: 8, retryDelayMs: 500, maxRetryDelayMs: 4_000 } } },
};

type Phase = 'loading' | 'playing' | 'paused' | 'ended' | 'error';

function absolute(url: string): string {
  return new URL(url, document.baseURI).toString();
}

function sessionPath(id: string, rest = ''): string {
  return `play/${encodeURIComponent(id)}${rest}`;
}

/** The player page: `/play/{sourceId}/{itemId}`. */
export function PlayerPage({ sourceId, itemId }: { sourceId: string; itemId: string }) {
  const [session, setSession] = useState<ApiPlaySession | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [phase, setPhase] = useState<Phase>('loading');
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(NaN);
  const [buffered, setBuffered] = useState<{ start: number; end: number }[]>([]);
  const [volume, setVolume] = useState(1);
  const [muted, setMuted] = useState(false);
  const [subtitleId, setSubtitleId] = useState<string>('off');
  const [streamNote, setStreamNote] = useState<string | null>(null);

  const shellRef = useRef<HTMLDivElement>(null);
  const mediaRef = useRef<HTMLMediaElement | null>(null);
  const frameRef = useRef<HTMLCanvasElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  /** Counts attaches: one that finishes loading hls.js after a newer attach (or after leaving) stops. */
  const attachSeq = useRef(0);
  const mounted = useRef(true);
  const sessionRef = useRef<ApiPlaySession | null>(null);
  /** Where the media was last (s), kept on every time update: leaving reads it, because by then
   * React has already detached `mediaRef` (the stopped report said 0:00 and lost the position). */
  const lastPosition = useRef(0);
  /** The generation whose stream is attached now. */
  const attachedGeneration = useRef<number | null>(null);

  // ---- the session: created on arrival, stopped on leaving --------------------------------------
  const createSession = useCallback(
    (startMs?: number, audioTrackId?: string) => createPlaySession({ sourceId, itemId, ...(startMs !== undefined ? { startMs } : {}), ...(audioTrackId !== undefined ? { audioTrackId } : {}) }),
    [sourceId, itemId],
  );

  // Leaving the page (navigation inside the app, closing the tab): ONE request that stops the
  // session and says where the player was. Two (a stopped report, then DELETE) raced: when the
  // DELETE won, the server's stop carried the last periodic position, up to 10 s old.
  useEffect(() => {
    const leave = () => {
      const current = sessionRef.current;
      if (!current) return;
      sessionRef.current = null;
      const positionMs = Math.round((mediaRef.current?.currentTime ?? lastPosition.current) * 1000);
      stopPlaySession(current.id, positionMs);
    };
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      leave();
    };
  }, []);

  // ---- attaching a stream (first time, and when Marquee switched it) ----------------------------
  const holdFrame = useCallback(() => {
    // The last frame stays on screen while the new stream loads: no black flash, no visible restart.
    const video = mediaRef.current;
    const canvas = frameRef.current;
    if (!(video instanceof HTMLVideoElement) || !canvas || !video.videoWidth) return;
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    try {
      canvas.getContext('2d')?.drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.hidden = false;
    } catch {
      canvas.hidden = true;
    }
  }, []);

  const attach = useCallback((target: ApiPlaySession, atSeconds: number, resume: boolean) => {
    const media = mediaRef.current;
    if (!media) return;
    const seq = ++attachSeq.current;
    hlsRef.current?.destroy();
    hlsRef.current = null;
    attachedGeneration.current = target.generation;
    const url = absolute(target.streamUrl);
    const start = () => {
      if (atSeconds > 0 && Math.abs(media.currentTime - atSeconds) > 0.5) media.currentTime = atSeconds;
      if (resume) void media.play().catch(() => setPhase('paused'));
    };
    const playFile = () => {
      media.src = url;
      media.addEventListener('loadedmetadata', start, { once: true });
      media.load();
    };
    if (target.protocol !== 'hls') {
      playFile();
      return;
    }
    const stale = () => seq !== attachSeq.current || !mounted.current || mediaRef.current !== media;
    loadHls().then(
      ({ default: HlsPlayer, Events, ErrorTypes }) => {
        if (stale()) return;
        // No MediaSource (Safari on iOS): the browser plays HLS itself.
        if (!HlsPlayer.isSupported()) {
          playFile();
          return;
        }
        const hls = new HlsPlayer({ ...HLS_CONFIG, startPosition: atSeconds });
        hlsRef.current = hls;
        hls.on(Events.ERROR, (_event, data) => {
          if (!data.fatal) return;
          if (data.type === ErrorTypes.NETWORK_ERROR) {
            // Marquee is reachable again sooner or later (it fails over itself): load again from where we are.
            setStreamNote('Waiting for the stream…');
            hls.startLoad(media.currentTime);
          } else if (data.type === ErrorTypes.MEDIA_ERROR) {
            hls.recoverMediaError();
          } else {
            setError(`The stream could not be played (${data.details}).`);
            setPhase('error');
          }
        });
        hls.on(Events.FRAG_LOADED, () => setStreamNote(null));
        hls.once(Events.MANIFEST_PARSED, () => {
          if (resume) void media.play().catch(() => setPhase('paused'));
        });
        hls.loadSource(url);
        hls.attachMedia(media);
      },
      (err: unknown) => {
        if (stale()) return;
        setError(`The player could not load its HLS support: ${errorMessage(err)}`);
        setPhase('error');
      },
    );
  }, []);

  // The session: the one main.tsx asked for while the app booted (a cold load of this address),
  // else asked for now. Nothing else is waited for before it. A layout effect: it runs as the page
  // is put on screen, not after the first paint, so an answer that came during boot is used at once.
  useLayoutEffect(() => {
    let cancelled = false;
    const early = takeEarlyPlay(sourceId, itemId);
    // Asked before the API key was given (401): ask again now that the app shows the player.
    const pending = early
      ? early.catch((err: unknown) => {
          if (err instanceof ApiRequestError && err.status === 401) return createSession();
          throw err;
        })
      : createSession();
    pending.then(
      (created) => {
        if (cancelled) return void stopPlaySession(created.id);
        sessionRef.current = created;
        // The <video> is already on the page: it gets its src now, not one render and effect later
        // (an audio item swaps the element in that render, so it is attached by the effect below).
        if (created.mediaType !== 'audio') attach(created, created.startMs / 1000, true);
        setSession(created);
      },
      (err: unknown) => {
        if (cancelled) return;
        setError(errorMessage(err));
        setPhase('error');
      },
    );
    return () => {
      cancelled = true;
    };
  }, [sourceId, itemId, createSession, attach]);

  useEffect(() => {
    if (!session || attachedGeneration.current !== null) return;
    attach(session, session.startMs / 1000, true);
  }, [session, attach]);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
      hlsRef.current?.destroy();
    };
  }, []);

  // ---- polling the session: the connection line, and a switched stream ---------------------------
  useEffect(() => {
    if (!session) return;
    const id = session.id;
    let stopped = false;
    const timer = window.setInterval(() => {
      apiFetch<ApiPlaySession>(sessionPath(id)).then(
        (fresh) => {
          if (stopped || sessionRef.current?.id !== id) return;
          sessionRef.current = fresh;
          setSession(fresh);
          if (fresh.generation !== attachedGeneration.current) {
            const media = mediaRef.current;
            holdFrame();
            attach(fresh, media?.currentTime ?? fresh.startMs / 1000, media ? !media.paused : true);
          }
        },
        (err: unknown) => {
          if (stopped || sessionRef.current?.id !== id) return;
          // The session expired on the server (idle, restart): a new one at the current position.
          if (err instanceof ApiRequestError && err.status === 404) {
            const media = mediaRef.current;
            const atMs = (media?.currentTime ?? 0) * 1000;
            stopped = true;
            createSession(atMs).then(
              (created) => {
                sessionRef.current = created;
                attachedGeneration.current = null;
                holdFrame();
                setSession(created);
              },
              () => undefined,
            );
          }
        },
      );
    }, SESSION_POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [session?.id, attach, holdFrame, createSession]); // eslint-disable-line react-hooks/exhaustive-deps

  // ---- progress reports ---------------------------------------------------------------------------
  const report = useCallback((state: 'playing' | 'paused' | 'stopped', seeked = false) => {
    const current = sessionRef.current;
    const media = mediaRef.current;
    if (!current || !media) return;
    const body: { positionMs: number; state: typeof state; seeked?: boolean } = { positionMs: Math.round(media.currentTime * 1000), state };
    if (seeked) body.seeked = true;
    // A lost report is not retried here: the next one (10 s at most) carries the newer position,
    // and Marquee keeps undeliverable reports in its outbox.
    apiFetch(sessionPath(current.id, '/progress'), { method: 'POST', body }).catch(() => undefined);
  }, []);

  useEffect(() => {
    if (phase !== 'playing') return;
    const timer = window.setInterval(() => report('playing'), PROGRESS_EVERY_MS);
    return () => window.clearInterval(timer);
  }, [phase, report]);

  // ---- media element events -----------------------------------------------------------------------
  useEffect(() => {
    const media = mediaRef.current;
    if (!media) return;
    const onTime = () => {
      lastPosition.current = media.currentTime;
      setTime(media.currentTime);
    };
    const onDuration = () => setDuration(media.duration);
    const onProgress = () => {
      const ranges: { start: number; end: number }[] = [];
      for (let i = 0; i < media.buffered.length; i++) ranges.push({ start: media.buffered.start(i), end: media.buffered.end(i) });
      setBuffered(ranges);
    };
    const onPlaying = () => {
      setPhase('playing');
      setStreamNote(null);
      if (frameRef.current) frameRef.current.hidden = true;
    };
    const onPlay = () => report('playing');
    const onPause = () => {
      if (media.ended) return;
      setPhase('paused');
      report('paused');
    };
    const onSeeked = () => {
      if (frameRef.current) frameRef.current.hidden = true;
      report(media.paused ? 'paused' : 'playing', true);
    };
    const onEnded = () => {
      setPhase('ended');
      report('stopped');
    };
    const onWaiting = () => setStreamNote('Buffering…');
    const onVolume = () => {
      setVolume(media.volume);
      setMuted(media.muted);
    };
    const onError = () => {
      // hls.js handles its own errors (and recovers); a plain file that fails is said in words.
      if (hlsRef.current || !media.error) return;
      setError(`The stream could not be played: ${media.error.message || `media error ${media.error.code}`}.`);
      setPhase('error');
    };
    const listeners: [string, () => void][] = [
      ['timeupdate', onTime],
      ['durationchange', onDuration],
      ['loadedmetadata', onDuration],
      ['progress', onProgress],
      ['playing', onPlaying],
      ['play', onPlay],
      ['pause', onPause],
      ['seeked', onSeeked],
      ['ended', onEnded],
      ['waiting', onWaiting],
      ['volumechange', onVolume],
      ['error', onError],
    ];
    for (const [name, fn] of listeners) media.addEventListener(name, fn);
    return () => {
      for (const [name, fn] of listeners) media.removeEventListener(name, fn);
    };
  }, [session?.mediaType, report]);  

  // ---- controls -----------------------------------------------------------------------------------
  const togglePlay = useCallback(() => {
    const media = mediaRef.current;
    if (!media) return;
    if (media.paused || media.ended) void media.play().catch(() => undefined);
    else media.pause();
  }, []);

  const seekBy = useCallback((delta: number) => {
    const media = mediaRef.current;
    if (!media) return;
    media.currentTime = seekTarget(media.currentTime, delta, media.duration);
  }, []);

  const toggleFullscreen = useCallback(() => {
    const shell = shellRef.current;
    if (!shell) return;
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void shell.requestFullscreen?.().catch(() => undefined);
  }, []);

  const toggleMute = useCallback(() => {
    const media = mediaRef.current;
    if (media) media.muted = !media.muted;
  }, []);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const el = event.target instanceof HTMLElement ? event.target : null;
      const target = el ? { tagName: el.tagName, inputType: el instanceof HTMLInputElement ? el.type : null, isContentEditable: el.isContentEditable } : null;
      const shortcut = shortcutFor(event, target);
      if (!shortcut) return;
      // Links keep Space/Enter for themselves; everywhere else on the page the player owns these keys.
      if (el?.closest('a[href]') && shortcut === 'toggle-play') return;
      event.preventDefault();
      if (shortcut === 'toggle-play') togglePlay();
      else if (shortcut === 'back-10') seekBy(-10);
      else if (shortcut === 'forward-10') seekBy(10);
      else if (shortcut === 'fullscreen') toggleFullscreen();
      else toggleMute();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [togglePlay, seekBy, toggleFullscreen, toggleMute]);

  // Subtitles: exactly the chosen text track shows.
  useEffect(() => {
    const media = mediaRef.current;
    if (!media || !session) return;
    for (const trackEl of media.querySelectorAll('track')) {
      trackEl.track.mode = trackEl.dataset.trackId === subtitleId ? 'showing' : 'disabled';
    }
  }, [subtitleId, session]);

  const chooseAudio = (audioTrackId: string) => {
    const media = mediaRef.current;
    const old = sessionRef.current;
    if (!media || !old) return;
    const atMs = media.currentTime * 1000;
    const resume = !media.paused;
    // Another audio track is another stream: a new session at the current position.
    createSession(atMs, audioTrackId).then(
      (created) => {
        sessionRef.current = created;
        // The old session's stop says where the switch happened (where the new one starts), not
        // its last periodic report, which would put the server's resume point back.
        stopPlaySession(old.id, atMs);
        holdFrame();
        attach(created, atMs / 1000, resume);
        setSession(created);
      },
      (err: unknown) => setStreamNote(`Could not switch the audio: ${errorMessage(err)}`),
    );
  };

  // ---- render -------------------------------------------------------------------------------------
  const back = href({ page: 'item', sourceId, itemId });
  if (error && !session) {
    return (
      <div className="page" data-testid="player-page" data-state="error">
        <a className="back-link" href={back}>
          <ArrowLeftIcon size={16} /> Back
        </a>
        <h1>Could not start playing</h1>
        <p className="form-error" role="alert" data-testid="player-error">
          {error}
        </p>
      </div>
    );
  }

  const isAudio = session?.mediaType === 'audio';
  const spans = bufferedSpans(buffered, duration);
  const known = Number.isFinite(duration) && duration > 0 ? duration : session?.durationMs ? session.durationMs / 1000 : 0;
  const playing = phase === 'playing';
  const connection = session?.connection;
  return (
    <div className="page wide player-page" data-testid="player-page" data-state={phase} data-protocol={session?.protocol} data-generation={session?.generation} data-session-id={session?.id}>
      <a className="back-link" href={back}>
        <ArrowLeftIcon size={16} /> Back to the item
      </a>
      <div className="player-head">
        <h1>{session?.title ?? 'Starting…'}</h1>
        {session?.subtitle && <p className="muted">{session.subtitle}</p>}
      </div>
      <div ref={shellRef} className={`player-shell${isAudio ? ' audio' : ''}`} data-testid="player-shell">
        {isAudio ? (
          <audio ref={(el) => void (mediaRef.current = el)} className="player-media" data-testid="player-media" preload="auto" />
        ) : (
          <video ref={(el) => void (mediaRef.current = el)} className="player-media" data-testid="player-media" preload="auto" playsInline onClick={togglePlay} onDoubleClick={toggleFullscreen} aria-label={session ? `Video: ${session.title}` : 'Video'}>
            {session?.subtitles.map((track) => <track key={`${session.id}/${track.id}`} kind="subtitles" label={track.label} srcLang={track.language ?? undefined} src={absolute(track.url)} data-track-id={track.id} />)}
          </video>
        )}
        {!isAudio && <canvas ref={frameRef} className="player-frame-hold" hidden aria-hidden="true" />}
        {(phase === 'loading' || streamNote) && phase !== 'error' && (
          <div className="player-note" role="status" data-testid="player-note">
            {phase === 'loading' ? 'Starting…' : streamNote}
          </div>
        )}
        <div className="player-controls" role="group" aria-label="Player controls">
          <div className="player-seek">
            <div className="player-buffered" aria-hidden="true">
              {spans.map((span, i) => (
                <span key={i} style={{ left: `${span.left * 100}%`, width: `${span.width * 100}%` }} />
              ))}
              <span className="player-played" style={{ width: `${known > 0 ? Math.min(100, (time / known) * 100) : 0}%` }} />
            </div>
            <input
              type="range"
              aria-label="Seek"
              aria-valuetext={`${formatPlayTime(time)} of ${formatPlayTime(known || null)}`}
              min={0}
              max={known || 0}
              step={1}
              value={Math.min(time, known || 0)}
              onChange={(e) => {
                const media = mediaRef.current;
                if (media) media.currentTime = Number(e.currentTarget.value);
              }}
              data-testid="player-seek"
            />
          </div>
          <div className="player-row">
            <button type="button" className="player-button" onClick={togglePlay} aria-label={playing ? 'Pause' : 'Play'} data-testid="player-play" disabled={!session}>
              {playing ? <PauseGlyph /> : <PlayIcon size={18} />}
            </button>
            <button type="button" className="player-button" onClick={() => seekBy(-10)} aria-label="Back 10 seconds" data-testid="player-back">
              −10
            </button>
            <button type="button" className="player-button" onClick={() => seekBy(10)} aria-label="Forward 10 seconds" data-testid="player-forward">
              +10
            </button>
            <span className="player-time" data-testid="player-time">
              {formatPlayTime(time)} / {formatPlayTime(known || null)}
            </span>
            <span className="player-spacer" />
            <button type="button" className="player-button" onClick={toggleMute} aria-label={muted ? 'Unmute' : 'Mute'} aria-pressed={muted} data-testid="player-mute">
              {muted || volume === 0 ? <SpeakerGlyph off /> : <SpeakerGlyph />}
            </button>
            <input
              type="range"
              className="player-volume"
              aria-label="Volume"
              min={0}
              max={1}
              step={0.05}
              value={muted ? 0 : volume}
              onChange={(e) => {
                const media = mediaRef.current;
                if (!media) return;
                media.volume = Number(e.currentTarget.value);
                media.muted = media.volume === 0;
              }}
              data-testid="player-volume"
            />
            {session && session.subtitles.length > 0 && (
              <label className="player-select">
                <span className="visually-hidden">Subtitles</span>
                <select value={subtitleId} onChange={(e) => setSubtitleId(e.currentTarget.value)} data-testid="player-subtitles" aria-label="Subtitles">
                  <option value="off">Subtitles off</option>
                  {session.subtitles.map((track) => (
                    <option key={track.id} value={track.id}>
                      {track.label}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {session && session.audioTracks.length > 1 && (
              <label className="player-select">
                <span className="visually-hidden">Audio</span>
                <select value={session.audioTracks.find((t) => t.selected)?.id ?? ''} onChange={(e) => chooseAudio(e.currentTarget.value)} data-testid="player-audio" aria-label="Audio track">
                  {session.audioTracks.map((track) => (
                    <option key={track.id} value={track.id}>
                      {track.label}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {session?.nextItemId && (
              <a className="player-button text" href={href({ page: 'play', sourceId, itemId: session.nextItemId })} data-testid="player-next">
                Next episode
              </a>
            )}
            {!isAudio && (
              <button type="button" className="player-button" onClick={toggleFullscreen} aria-label="Full screen" data-testid="player-fullscreen">
                <FullscreenGlyph />
              </button>
            )}
          </div>
        </div>
      </div>
      {connection && (
        <p className="player-connection" data-testid="player-connection" data-route-kind={connection.routeKind ?? ''} data-method={connection.method} title={connection.reason ?? undefined}>
          <span className={`chip kind-${connection.routeKind ?? 'none'}`}>{connection.routeKind ?? 'away'}</span> {connectionLine(connection)}
          {connection.reason && <span className="muted"> — {connection.reason}</span>}
        </p>
      )}
      {error && session && (
        <p className="form-error" role="alert" data-testid="player-error">
          {error}
        </p>
      )}
      <p className="muted tiny player-keys">Keys: Space play/pause · ← → 10 s · F full screen · M mute</p>
    </div>
  );
}

function PauseGlyph() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <rect x="6" y="5" width="4" height="14" rx="1" fill="currentColor" />
      <rect x="14" y="5" width="4" height="14" rx="1" fill="currentColor" />
    </svg>
  );
}

function SpeakerGlyph({ off = false }: { off?: boolean }) {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round">
      <path d="M11 5 6 9H3v6h3l5 4V5z" fill="currentColor" />
      {off ? <path d="m16 9 5 6m0-6-5 6" /> : <path d="M15.5 8.5a5 5 0 0 1 0 7M18.5 5.5a9 9 0 0 1 0 13" />}
    </svg>
  );
}

function FullscreenGlyph() {
  return (
    <svg width={18} height={18} viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round">
      <path d="M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5" />
    </svg>
  );
}
