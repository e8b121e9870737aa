/** The few members of the untyped simhash-js baseline the bench calls. */
declare module 'simhash-js' {
  export class SimHash {
    constructor(options?: { kshingles?: number; maxFeatures?: number });
    hash(input: string): number;
  }
}
