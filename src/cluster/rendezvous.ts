/**
 * Rendezvous (highest random weight) hashing: every shard goes to the live instance with the
 * highest weight for it. Every instance computes the same answer from the same list, with no
 * coordination; when an instance joins or leaves, only the shards it wins or held move (about
 * 1/n of them), the rest stay where they are.
 */
export function rendezvous(instances: readonly string[], shards: number): (string | null)[] {
  const seeds = instances.map(fnv1a);
  const owners: (string | null)[] = new Array(shards).fill(null);
  for (let shard = 0; shard < shards; shard++) {
    const salt = mix(shard + 0x9e3779b9);
    let best = -1;
    for (let i = 0; i < instances.length; i++) {
      const weight = mix(seeds[i] ^ salt);
      // Ties (rare) go to the smaller id, so that every instance breaks them alike.
      if (best < 0 || weight > best || (weight === best && instances[i] < (owners[shard] as string))) {
        best = weight;
        owners[shard] = instances[i];
      }
    }
  }
  return owners;
}

/** FNV-1a over UTF-16 code units: a well-spread 32-bit seed per instance id. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** A 32-bit finalizer (murmur3's fmix32): not linear like CRC, so weights of two instances are independent. */
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
