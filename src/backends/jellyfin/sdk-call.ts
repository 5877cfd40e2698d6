// One way to run a @jellyfin/sdk call for both the backend (probe, sign-in) and library browsing:
// transport failures become ProbeErrors, bodies go through a parser, nothing throws.
import type { AxiosResponse } from 'axios';
import type { ProbeError } from '../../core/types.js';
import { probeErrorFromAxios } from '../axios.js';
import { describeHost } from '../http.js';
import type { Parsed } from '../parse.js';

export type SdkCallResult<T> = { ok: true; value: T } | { ok: false; error: ProbeError };

/** Run an SDK call and parse its body; never throws. Messages name the server (host:port only). */
export async function sdkCall<T>(run: () => Promise<AxiosResponse<unknown>>, parse: (body: unknown) => Parsed<T>, url: string): Promise<SdkCallResult<T>> {
  let res: AxiosResponse<unknown>;
  try {
    res = await run();
  } catch (err) {
    return { ok: false, error: probeErrorFromAxios(err) };
  }
  const parsed = parse(res.data);
  if (!parsed.ok) return { ok: false, error: { ...parsed.error, message: `${describeHost(url)}: ${parsed.error.message}` } };
  return parsed;
}
