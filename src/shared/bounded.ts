/**
 * Sets `key` as the newest entry of a map kept to at most `max` entries: the oldest (first inserted, or set again
 * least recently) is forgotten first. For the in-process memories that must not grow with a storm.
 */
export function setNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
