// Public API of the simulators: tests, the bench and the demo import from here only.
export { createSimulation } from './simulation.js';
export type { Simulation, SimServerInfo, SimRouteInfo, RouteHandle, ServerHandle, LibraryHandle } from './simulation.js';
export { plexMediaCatalog, jellyfinMediaCatalog, ServerLibrary, CLIP_DURATION_MS, MAX_ITEMS_PER_LIBRARY } from './library-model.js';
export type { SimItem, ItemType, LibraryKind } from './library-model.js';
export type { MediaCatalog, SimPlayable, SimMediaVariant } from './media-catalog.js';
export { loadSimConfig, parseSimConfig } from './config.js';
export type { SimConfig } from './config.js';
export type { RouteFault, RouteFaultMode, ServerFaultMode, MalformedVariant, DropVariant } from './faults.js';
export { ROUTE_FAULT_MODES, MALFORMED_VARIANTS, SERVER_FAULT_MODES } from './faults.js';
export { makeScaleConfig } from './scale.js';
export { startCluster, shardServers } from './cluster.js';
export type { Cluster } from './cluster.js';
export { raiseFdLimit, readSoftLimit } from './fd-limit.js';
export { ensureClips, clipCacheDir, CLIP_PARAMS, FfmpegMissingError } from './media/clips.js';
export type { ClipSet, ClipFile } from './media/clips.js';
export { fallbackPlayables } from './media/fallback-catalog.js';
export type { PlaybackReport, PlayStateStore, SimPlayState } from './media/playback.js';
