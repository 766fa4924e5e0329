// Majority arithmetic over the voters of one configuration.

/** The largest value that a majority of `values` reaches (e.g. the commit index from match indexes). */
export function majorityValue(values: number[]): number {
  if (values.length === 0) return 0
  values.sort((a, b) => b - a)
  return values[(values.length >> 1)]!
}

export type VoteResult = 'won' | 'lost' | 'pending'

/** Outcome of an election among `voterCount` voters. */
export function voteResult(voterCount: number, granted: number, rejected: number): VoteResult {
  const quorum = (voterCount >> 1) + 1
  if (granted >= quorum) return 'won'
  if (rejected > voterCount - quorum) return 'lost'
  return 'pending'
}

export function quorumSize(voterCount: number): number {
  return (voterCount >> 1) + 1
}
