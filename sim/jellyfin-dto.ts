// Jellyfin DTOs in the server's wire shape (PascalCase, nulls omitted, ids as 32 hex).
import { stableHex } from './ids.js';

export interface JellyfinUser {
  id: string;
  name: string;
  password: string;
  admin: boolean;
  disabled: boolean;
  lastLogin?: Date;
}

export interface ServerIdentity {
  id: string;
  name: string;
  version: string;
}

/** Drops null/undefined members recursively, as Jellyfin's JSON options do. */
export function omitNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(omitNulls) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = omitNulls(v);
    return out as T;
  }
  return value;
}

/** .NET DateTime round-trip format with 7 fractional digits. */
export function jfDate(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export function publicSystemInfo(server: ServerIdentity, localAddress: string, startupWizardCompleted: boolean) {
  return {
    LocalAddress: localAddress,
    ServerName: server.name,
    Version: server.version,
    ProductName: 'Jellyfin Server',
    OperatingSystem: '',
    Id: server.id,
    StartupWizardCompleted: startupWizardCompleted,
  };
}

export function systemInfo(server: ServerIdentity, localAddress: string) {
  return {
    ...publicSystemInfo(server, localAddress, true),
    OperatingSystemDisplayName: '',
    PackageName: 'simulated',
    HasPendingRestart: false,
    IsShuttingDown: false,
    SupportsLibraryMonitor: true,
    WebSocketPortNumber: 8096,
    CompletedInstallations: [],
    CanSelfRestart: false,
    CanLaunchWebBrowser: false,
    ProgramDataPath: '/var/lib/jellyfin',
    WebPath: '/usr/share/jellyfin/web',
    ItemsByNamePath: '/var/lib/jellyfin/metadata',
    CachePath: '/var/cache/jellyfin',
    LogPath: '/var/log/jellyfin',
    InternalMetadataPath: '/var/lib/jellyfin/metadata',
    TranscodingTempPath: '/var/lib/jellyfin/transcodes',
    CastReceiverApplications: [],
    HasUpdateAvailable: false,
    EncoderLocation: 'System',
    SystemArchitecture: 'X64',
  };
}

export function userDto(server: ServerIdentity, user: JellyfinUser) {
  return omitNulls({
    Name: user.name,
    ServerId: server.id,
    Id: user.id,
    HasPassword: user.password !== '',
    HasConfiguredPassword: user.password !== '',
    HasConfiguredEasyPassword: false,
    EnableAutoLogin: false,
    LastLoginDate: user.lastLogin ? jfDate(user.lastLogin) : null,
    LastActivityDate: user.lastLogin ? jfDate(user.lastLogin) : null,
    Configuration: {
      PlayDefaultAudioTrack: true,
      SubtitleLanguagePreference: '',
      DisplayMissingEpisodes: false,
      GroupedFolders: [],
      SubtitleMode: 'Default',
      DisplayCollectionsView: false,
      EnableLocalPassword: false,
      OrderedViews: [],
      LatestItemsExcludes: [],
      MyMediaExcludes: [],
      HidePlayedInLatest: true,
      RememberAudioSelections: true,
      RememberSubtitleSelections: true,
      EnableNextEpisodeAutoPlay: true,
      CastReceiverId: 'F007D354',
    },
    Policy: {
      IsAdministrator: user.admin,
      IsHidden: false,
      EnableCollectionManagement: user.admin,
      EnableSubtitleManagement: user.admin,
      EnableLyricManagement: user.admin,
      IsDisabled: user.disabled,
      BlockedTags: [],
      AllowedTags: [],
      EnableUserPreferenceAccess: true,
      AccessSchedules: [],
      BlockUnratedItems: [],
      EnableRemoteControlOfOtherUsers: user.admin,
      EnableSharedDeviceControl: true,
      EnableRemoteAccess: true,
      EnableLiveTvManagement: true,
      EnableLiveTvAccess: true,
      EnableMediaPlayback: true,
      EnableAudioPlaybackTranscoding: true,
      EnableVideoPlaybackTranscoding: true,
      EnablePlaybackRemuxing: true,
      ForceRemoteSourceTranscoding: false,
      EnableContentDeletion: user.admin,
      EnableContentDeletionFromFolders: [],
      EnableContentDownloading: true,
      EnableSyncTranscoding: true,
      EnableMediaConversion: true,
      EnabledDevices: [],
      EnableAllDevices: true,
      EnabledChannels: [],
      EnableAllChannels: true,
      EnabledFolders: [],
      EnableAllFolders: true,
      InvalidLoginAttemptCount: 0,
      LoginAttemptsBeforeLockout: -1,
      MaxActiveSessions: 0,
      EnablePublicSharing: true,
      BlockedMediaFolders: [],
      BlockedChannels: [],
      RemoteClientBitrateLimit: 0,
      AuthenticationProviderId: 'Jellyfin.Server.Implementations.Users.DefaultAuthenticationProvider',
      PasswordResetProviderId: 'Jellyfin.Server.Implementations.Users.DefaultPasswordResetProvider',
      SyncPlayAccess: 'CreateAndJoinGroups',
    },
  });
}

export interface SessionDevice {
  sessionId: string;
  client: string;
  device: string;
  deviceId: string;
  version: string;
  remoteEndPoint: string;
  lastActivity: Date;
}

export function sessionInfo(server: ServerIdentity, user: JellyfinUser, s: SessionDevice) {
  return omitNulls({
    PlayState: { CanSeek: false, IsPaused: false, IsMuted: false, RepeatMode: 'RepeatNone', PlaybackOrder: 'Default' },
    AdditionalUsers: [],
    Capabilities: { PlayableMediaTypes: [], SupportedCommands: [], SupportsMediaControl: false, SupportsPersistentIdentifier: true },
    RemoteEndPoint: s.remoteEndPoint,
    PlayableMediaTypes: [],
    Id: s.sessionId,
    UserId: user.id,
    UserName: user.name,
    Client: s.client,
    LastActivityDate: jfDate(s.lastActivity),
    LastPlaybackCheckIn: '0001-01-01T00:00:00.0000000Z',
    DeviceName: s.device,
    DeviceId: s.deviceId,
    ApplicationVersion: s.version,
    IsActive: true,
    SupportsMediaControl: false,
    SupportsRemoteControl: false,
    NowPlayingQueue: [],
    HasCustomDeviceName: false,
    ServerId: server.id,
    SupportedCommands: [],
  });
}

export function authenticationResult(server: ServerIdentity, user: JellyfinUser, s: SessionDevice, token: string) {
  return { User: userDto(server, user), SessionInfo: sessionInfo(server, user, s), AccessToken: token, ServerId: server.id };
}

export interface JellyfinLibrary {
  name: string;
  collectionType?: string | undefined;
  itemCount?: number | undefined;
}

export function userViews(server: ServerIdentity, libraries: JellyfinLibrary[]) {
  const items = libraries.map((lib) =>
    omitNulls({
      Name: lib.name,
      ServerId: server.id,
      Id: stableHex(`jf-view:${server.id}:${lib.name}`, 32),
      Etag: stableHex(`jf-etag:${lib.name}`, 32),
      DateCreated: '2024-01-01T00:00:00.0000000Z',
      CanDelete: false,
      CanDownload: false,
      SortName: lib.name.toLowerCase(),
      ExternalUrls: [],
      Path: `/config/data/collections/${lib.name}`,
      EnableMediaSourceDisplay: true,
      ChannelId: null,
      Taglines: [],
      Genres: [],
      PlayAccess: 'Full',
      RemoteTrailers: [],
      ProviderIds: {},
      IsFolder: true,
      ParentId: stableHex(`jf-root:${server.id}`, 32),
      Type: 'CollectionFolder',
      People: [],
      Studios: [],
      GenreItems: [],
      LocalTrailerCount: 0,
      UserData: { PlaybackPositionTicks: 0, PlayCount: 0, IsFavorite: false, Played: false, Key: stableHex(`jf-view:${server.id}:${lib.name}`, 32), ItemId: stableHex(`jf-view:${server.id}:${lib.name}`, 32) },
      ChildCount: lib.itemCount ?? 0,
      SpecialFeatureCount: 0,
      DisplayPreferencesId: stableHex(`jf-dp:${lib.name}`, 32),
      Tags: [],
      PrimaryImageAspectRatio: 1.7777777777777777,
      CollectionType: lib.collectionType,
      ImageTags: { Primary: stableHex(`jf-img:${lib.name}`, 32) },
      BackdropImageTags: [],
      ImageBlurHashes: {},
      LocationType: 'FileSystem',
      MediaType: 'Unknown',
      LockedFields: [],
      LockData: false,
    }),
  );
  return { Items: items, TotalRecordCount: items.length, StartIndex: 0 };
}
