/**
 * How many patients (or volumes) go to train, validation and test, from
 * three shares: one rule for the synthetic writer and the LiTS importer, so
 * that neither can hand one patient to two splits.
 *
 * @module
 */

/** Throws unless `shares` are three finite non-negative numbers with a positive sum. */
export function checkShares(shares: readonly number[], where: string): void {
  if (
    !Array.isArray(shares) || shares.length !== 3 ||
    shares.some((s) => typeof s !== "number" || !(s >= 0) || !Number.isFinite(s)) ||
    !(shares[0] + shares[1] + shares[2] > 0)
  ) {
    throw new RangeError(
      `${where}: split shares must be three non-negative numbers [train, val, test] with a ` +
        `positive sum, such as [0.7, 0.15, 0.15]; got ${JSON.stringify(shares)}`,
    );
  }
}

/**
 * The counts [train, val, test] of `n` groups: validation and test are
 * `n * share` rounded (with `atLeastOne`, at least one each where its share
 * is positive and there are three or more groups), train the rest. Where
 * rounding asks for more than there is, the largest of validation and test
 * gives way, so the counts always sum to `n`, a split with no share gets
 * none, and train keeps one where it has a share and `atLeastOne` holds.
 */
export function splitCounts(
  n: number,
  shares: readonly number[],
  atLeastOne: boolean,
): [number, number, number] {
  const total = shares[0] + shares[1] + shares[2];
  const least = (s: number) => (atLeastOne && n >= 3 && s > 0 ? 1 : 0);
  const counts: [number, number, number] = [
    0,
    Math.max(least(shares[1]), Math.round((n * shares[1]) / total)),
    Math.max(least(shares[2]), Math.round((n * shares[2]) / total)),
  ];
  counts[0] = n - counts[1] - counts[2];
  if (shares[0] === 0 && counts[0] > 0) {
    // What rounding left over goes to the evaluation split with the larger share.
    counts[shares[1] >= shares[2] ? 1 : 2] += counts[0];
    counts[0] = 0;
  }
  while (counts[0] < least(shares[0])) {
    const k = counts[1] - least(shares[1]) >= counts[2] - least(shares[2]) ? 1 : 2;
    counts[k]--;
    counts[0]++;
  }
  return counts;
}
