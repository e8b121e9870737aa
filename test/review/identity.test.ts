import { describe, expect, it } from 'bun:test';
import { loadConfig } from '../../src/config.ts';

describe('AUTH_TOKENS with names', () => {
  it('reads name:token entries beside plain tokens: the tokens to accept, and who each named one is', () => {
    const config = loadConfig({ AUTH_TOKENS: ' alice:tok-a , plain-token,bob.k_2:s3:cr3t, ' });
    expect(config.authTokens).toEqual(['tok-a', 'plain-token', 's3:cr3t']);
    expect(config.tokenNames).toEqual({ 'tok-a': 'alice', 's3:cr3t': 'bob.k_2' });
  });

  it('keeps plain tokens plain, and the service open without any', () => {
    expect(loadConfig({ AUTH_TOKENS: 'one,two' })).toMatchObject({ authTokens: ['one', 'two'], tokenNames: {} });
    expect(loadConfig({})).toMatchObject({ authTokens: [], tokenNames: {} });
  });
});
