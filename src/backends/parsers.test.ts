import { describe, expect, it } from 'vitest';
import * as jf from './jellyfin/parsers.js';
import * as plex from './plex/parsers.js';

// Every parser fuzzed (≥ 1,000 cases each, typed errors only): fuzzAllParsers in routes.test.ts.
const MID = 'a'.repeat(40);
const JID = '0123456789abcdef0123456789abcdef';

describe('Plex parsers', () => {
  it('reads PMS identity in JSON and XML', () => {
    const json = plex.parsePmsIdentity(JSON.stringify({ MediaContainer: { size: 0, machineIdentifier: MID, friendlyName: 'Living room', version: '1.40' } }));
    expect(json).toEqual({ ok: true, value: { machineIdentifier: MID, friendlyName: 'Living room', version: '1.40' } });
    const xml = plex.parsePmsIdentity(`<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer size="0" claimed="1" machineIdentifier="${MID}" friendlyName="Living &amp; room" version="1.40"/>`);
    expect(xml).toEqual({ ok: true, value: { machineIdentifier: MID, friendlyName: 'Living & room', version: '1.40' } });
  });

  it('rejects the 401 html page and a missing machineIdentifier as malformed', () => {
    const html = plex.parsePmsIdentity('<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>');
    expect(html.ok).toBe(false);
    const missing = plex.parsePmsIdentity('{"MediaContainer":{"size":0}}');
    expect(!missing.ok && missing.error.message).toContain('machineIdentifier');
  });

  it('reads library sections in JSON and XML, normalising types', () => {
    const body = {
      MediaContainer: {
        size: 4,
        Directory: [
          { key: '1', title: 'Movies', type: 'movie', uuid: 'x' },
          { key: '2', title: 'TV', type: 'show' },
          { key: 3, title: 'Music', type: 'artist' },
          { key: '4', title: 'Photos', type: 'photo' },
          { key: '5', title: 'Odd', type: 'clip' },
        ],
      },
    };
    const expected = [
      { id: '1', name: 'Movies', type: 'movie' },
      { id: '2', name: 'TV', type: 'show' },
      { id: '3', name: 'Music', type: 'music' },
      { id: '4', name: 'Photos', type: 'photo' },
      { id: '5', name: 'Odd', type: 'other' },
    ];
    expect(plex.parsePmsSections(JSON.stringify(body))).toEqual({ ok: true, value: expected });
    const xml = `<?xml version="1.0"?><MediaContainer size="5" allowSync="0">${expected
      .map((l, i) => `<Directory key="${l.id}" title="${l.name}" type="${['movie', 'show', 'artist', 'photo', 'clip'][i]}" refreshing="0"><Location id="1" path="/x"/></Directory>`)
      .join('')}</MediaContainer>`;
    expect(plex.parsePmsSections(xml)).toEqual({ ok: true, value: expected });
    // One library in XML is still a list.
    expect(plex.parsePmsSections('<MediaContainer size="1"><Directory key="9" title="Only" type="movie"/></MediaContainer>')).toEqual({
      ok: true,
      value: [{ id: '9', name: 'Only', type: 'movie' }],
    });
    expect(plex.parsePmsSections('{"MediaContainer":{"size":0}}')).toEqual({ ok: true, value: [] });
    expect(plex.parsePmsSections('{"MediaContainer":{"Directory":[{"key":"1"}]}}').ok).toBe(false);
  });

  it('reads resources: servers only, booleans from JSON or "1"/"0", bad entries skipped', () => {
    const body = [
      {
        name: 'Living room',
        clientIdentifier: MID,
        provides: 'server',
        accessToken: 'per-server',
        owned: true,
        presence: true,
        httpsRequired: false,
        connections: [
          { protocol: 'https', address: '10.0.0.2', port: 32400, uri: 'https://10-0-0-2.abc.plex.direct:32400', local: true, relay: false, IPv6: false },
          { protocol: 'https', address: '1.2.3.4', port: '32400', uri: 'https://1-2-3-4.abc.plex.direct:32400', local: '0', relay: '0' },
          { protocol: 'gopher', address: 'x', port: 1, uri: 'gopher://x' },
        ],
      },
      { name: 'Phone', clientIdentifier: 'p', provides: 'client,player', connections: [] },
      { name: 'Broken', provides: 'server' },
    ];
    const r = plex.parsePlexResources(JSON.stringify(body));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toHaveLength(1);
    expect(r.value[0]).toMatchObject({ name: 'Living room', clientIdentifier: MID, accessToken: 'per-server', owned: true, presence: true });
    expect(r.value[0]?.connections.map((c) => [c.local, c.relay, c.port])).toEqual([
      [true, false, 32400],
      [false, false, 32400],
    ]);
    expect(plex.parsePlexResources('{"errors":[{"code":1001}]}').ok).toBe(false);
  });

  it('does not expand XML entity bombs', () => {
    let ents = '<!ENTITY a0 "lollollollollollollollollollol">';
    for (let i = 1; i < 10; i++) ents += `<!ENTITY a${i} "${`&a${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?><!DOCTYPE MediaContainer [${ents}]><MediaContainer machineIdentifier="${MID}" friendlyName="&a9;"/>`;
    const r = plex.parsePmsIdentity(xml);
    expect(!r.ok || (r.value.friendlyName ?? '').length < 1000).toBe(true);
  });

  it('reads pins and notifications', () => {
    expect(plex.parsePlexPin('{"id":5,"code":"ABCD","authToken":null,"expiresIn":900}')).toEqual({ ok: true, value: { id: 5, code: 'ABCD', authToken: null, expiresIn: 900 } });
    const n = plex.parsePlexNotification('{"NotificationContainer":{"type":"timeline","size":1,"TimelineEntry":[{"sectionID":1,"state":5}]}}');
    expect(n).toEqual({ ok: true, value: { type: 'timeline', hint: 'library_changed' } });
    expect(plex.parsePlexNotification('{"NotificationContainer":{"type":"playing"}}')).toEqual({ ok: true, value: { type: 'playing', hint: 'other' } });
  });
});

describe('Jellyfin parsers', () => {
  it('reads public info and normalises dashed ids', () => {
    const r = jf.parseJellyfinInfo({ LocalAddress: 'http://10.0.0.3:8096', ServerName: 'Den', Version: '10.11.0', ProductName: 'Jellyfin Server', Id: '01234567-89AB-CDEF-0123-456789ABCDEF', StartupWizardCompleted: true });
    expect(r).toEqual({
      ok: true,
      value: { id: JID, name: 'Den', version: '10.11.0', productName: 'Jellyfin Server', localAddress: 'http://10.0.0.3:8096', startupWizardCompleted: true },
    });
    expect(jf.parseJellyfinInfo('{"Id":"not-hex"}').ok).toBe(false);
    expect(jf.parseJellyfinInfo('').ok).toBe(false);
  });

  it('reads the auth result and user views', () => {
    const auth = jf.parseJellyfinAuth({ User: { Name: 'ann', Id: JID, ServerId: JID }, AccessToken: 'tok', ServerId: JID, SessionInfo: {} });
    expect(auth).toEqual({ ok: true, value: { accessToken: 'tok', serverId: JID, userId: JID, userName: 'ann' } });
    const views = jf.parseJellyfinViews({
      Items: [
        { Id: 'a', Name: 'Movies', CollectionType: 'movies' },
        { Id: 'b', Name: 'Shows', CollectionType: 'tvshows' },
        { Id: 'c', Name: 'Music', CollectionType: 'music' },
        { Id: 'd', Name: 'Pics', CollectionType: 'photos' },
        { Id: 'e', Name: 'Mixed' },
        { Id: 'f', Name: 'Books', CollectionType: 'books' },
      ],
      TotalRecordCount: 6,
    });
    expect(views.ok && views.value.map((l) => l.type)).toEqual(['movie', 'show', 'music', 'photo', 'other', 'other']);
    expect(jf.parseJellyfinViews({ Items: [{ Name: 'no id' }] }).ok).toBe(false);
  });

  it('reads Quick Connect and socket messages', () => {
    expect(jf.parseJellyfinQuickConnect({ Authenticated: false, Secret: 'S', Code: '123456' })).toEqual({ ok: true, value: { authenticated: false, secret: 'S', code: '123456' } });
    expect(jf.parseJellyfinBoolean('true')).toEqual({ ok: true, value: true });
    expect(jf.parseJellyfinSocketMessage('{"MessageType":"ForceKeepAlive","Data":60}')).toEqual({ ok: true, value: { type: 'ForceKeepAlive', seconds: 60 } });
    expect(jf.parseJellyfinSocketMessage('{"MessageType":"ForceKeepAlive","Data":-1}')).toEqual({ ok: true, value: { type: 'ForceKeepAlive', seconds: 60 } });
    expect(jf.parseJellyfinSocketMessage('{"MessageType":"ServerShuttingDown","Data":""}')).toEqual({ ok: true, value: { type: 'ServerShuttingDown' } });
    expect(jf.parseJellyfinSocketMessage('{"MessageType":"UserUpdated"}')).toEqual({ ok: true, value: { type: 'other', messageType: 'UserUpdated' } });
    expect(jf.parseJellyfinSocketMessage('KeepAlive').ok).toBe(false);
  });
});

describe('library parsers (issue 14): skip policy and sanity bounds', () => {
  it('Plex: a wrong-typed optional field is dropped, not fatal; huge strings and lists are cut', async () => {
    const { parsePlexItems } = await import('./plex/library-parsers.js');
    const r = parsePlexItems({
      MediaContainer: {
        librarySectionID: 4,
        Metadata: [
          { ratingKey: 7, type: 'movie', title: 'T'.repeat(5000), year: 'abc', rating: 42, summary: 'x'.repeat(50_000), Genre: Array.from({ length: 500 }, (_, i) => ({ tag: `g${i}` })), thumb: 'http://elsewhere/x.jpg', viewOffset: -5 },
        ],
      },
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const item = r.value.items[0];
    expect(item?.id).toBe('7');
    expect(item?.libraryId).toBe('4');
    expect(item?.year).toBeNull();
    expect(item?.rating).toBe(10);
    expect(item?.title.length).toBe(500);
    expect(item?.overview?.length).toBe(10_000);
    expect(item?.genres.length).toBe(30);
    // Only server-relative image paths are kept: the proxy never fetches an address from an answer.
    expect(item?.poster).toBeNull();
    expect(item?.resumeMs).toBeNull();
  });

  it('Plex: no Metadata is an empty list; a non-empty list of only bad items is malformed', async () => {
    const { parsePlexItems } = await import('./plex/library-parsers.js');
    expect(parsePlexItems('{"MediaContainer":{"size":0}}')).toEqual({ ok: true, value: { items: [], skipped: 0 } });
    expect(parsePlexItems('{"MediaContainer":{"Metadata":[{"type":"movie"},{"ratingKey":"1"}]}}').ok).toBe(false);
    expect(parsePlexItems('{"Metadata":[]}').ok).toBe(false);
  });

  it('Jellyfin: ticks → ms, ids unsafe for a URL path skip the item, blurhash only for the current tag', async () => {
    const { parseJellyfinItemPage } = await import('./jellyfin/library-parsers.js');
    const r = parseJellyfinItemPage({
      Items: [
        { Id: JID, Type: 'Episode', Name: 'E', RunTimeTicks: 36_000_000_000, UserData: { PlaybackPositionTicks: 'soon' }, ImageTags: { Primary: 'new' }, ImageBlurHashes: { Primary: { old: 'LKO2?U%2Tw=w]~RBVZRi};RPxuwH' } } },
        { Id: 'a/../b', Type: 'Movie', Name: 'evil' },
      ],
      TotalRecordCount: 'many',
    }, 'lib');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.skipped).toBe(1);
    expect(r.value.total).toBeNull();
    expect(r.value.items[0]).toMatchObject({ type: 'episode', durationMs: 3_600_000, resumeMs: null, blurhash: null, libraryId: 'lib', poster: { path: `/Items/${JID}/Images/Primary`, tag: 'new' } });
  });
});
