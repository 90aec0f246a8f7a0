import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { candidateModels, candidatesText, ladderText } from './ladder.js';

const model = fc.constantFrom('claude-opus-4', 'claude-sonnet-4', 'claude-haiku-4', 'gpt-5-codex');

describe('the ladder as the trace prints it', () => {
  it('is the models joined, and the candidates are candidateModels joined, also when kept from an earlier call', () => {
    fc.assert(
      fc.property(
        fc.array(model, { maxLength: 6 }),
        fc.array(model, { minLength: 1, maxLength: 4 }),
        (ladder, asked) => {
          expect(ladderText(ladder)).toBe(ladder.join(' > '));
          // Each model asked twice: the second answer may come from what the first kept.
          for (const m of [...asked, ...asked])
            expect(candidatesText(ladder, m)).toBe(candidateModels(ladder, m).join(' > '));
        },
      ),
    );
  });

  it('takes the tail from the first rung that names the model, and a model off the ladder alone', () => {
    const ladder = ['claude-opus-4', 'claude-sonnet-4', 'claude-opus-4', 'claude-haiku-4'];
    expect(candidatesText(ladder, 'claude-opus-4')).toBe(
      'claude-opus-4 > claude-sonnet-4 > claude-opus-4 > claude-haiku-4',
    );
    expect(candidatesText(ladder, 'claude-haiku-4')).toBe('claude-haiku-4');
    expect(candidatesText(ladder, 'gpt-5-codex')).toBe('gpt-5-codex');
  });
});
