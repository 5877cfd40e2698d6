// What a player's currentTime samples say about a stall: shared by the player browser tests and the
// playback-stall bench, so both judge "the video stopped" the same way.

/** One sample: when it was taken (ms) and the media element's currentTime (s). */
export interface PlaySample {
  at: number;
  t: number;
}

/** The longest time currentTime did not move, in ms. */
export function longestStall(list: readonly PlaySample[]): number {
  let longest = 0;
  let since = list[0]?.at ?? 0;
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.t > list[i - 1]!.t) since = list[i]!.at;
    else longest = Math.max(longest, list[i]!.at - since);
  }
  return longest;
}
