import { describe, expect, it } from 'bun:test';
import { KEY_WORD_FAMILIES, KeyWords } from '../../workers/dedup/key-words.ts';
import { normalize } from '../../workers/dedup/normalize.ts';

const keyWords = new KeyWords();
const isEnglish = (w: string) => /^[a-z]/i.test(w);
/** A sentence around the word, as a question would carry it (after a number for a unit). */
const sentence = (word: string, unit: boolean) => {
  if (isEnglish(word)) return unit ? `the rope is 135 ${word} long, find x` : `which of the following ${word} answer`;
  return unit ? `每张课桌135${word}，求总价` : `关于电场强度，下列说法${word}的选项`;
};
const wordsOf = (text: string) => keyWords.words(normalize(text, null).text);
const agree = (a: string, b: string) => keyWords.agree(keyWords.ids(normalize(a, null).text), keyWords.ids(normalize(b, null).text));

describe('key-word lists', () => {
  for (const family of KEY_WORD_FAMILIES) {
    for (const group of family.groups) {
      for (const word of group) {
        it(`finds ${family.name} word "${word}" as itself`, () => {
          expect(wordsOf(sentence(word, family.afterNumber === true))).toEqual([word.toLowerCase()]);
        });
      }
      if (group.length > 1) {
        it(`keeps apart ${family.name} alternatives ${group.join('/')}`, () => {
          for (const a of group) {
            for (const b of group) {
              if (a === b) continue;
              expect(agree(sentence(a, family.afterNumber === true), sentence(b, family.afterNumber === true))).toBe(false);
            }
          }
        });
      } else {
        it(`keeps apart a question with and without "${group[0]}"`, () => {
          expect(agree(`Which of the following is ${group[0]} true?`, 'Which of the following is true?')).toBe(false);
        });
      }
    }
  }
});

describe('key-word matching', () => {
  it('takes the longest word at a position: 不正确 is not 正确, 分钟 is not 分, 千米 is not 米', () => {
    expect(wordsOf('下列说法不正确的是')).toEqual(['不正确', '是']);
    expect(wordsOf('用时5分钟')).toEqual(['分钟']);
    expect(wordsOf('全长3千米')).toEqual(['千米']);
    expect(wordsOf('面积是20平方米')).toEqual(['是', '平方米']);
  });

  it('counts a unit only right after a number', () => {
    expect(wordsOf('米饭和玉米')).toEqual([]);
    expect(wordsOf('解一元二次方程')).toEqual([]);
    expect(wordsOf('三角形中，角A分别为')).toEqual([]);
    expect(wordsOf('每张课桌135元，每把椅子40 元')).toEqual(['元', '元']);
    expect(wordsOf('a 5 m rope and the variable m')).toEqual(['m']);
  });

  it('ignores a score note, which normalization drops', () => {
    expect(wordsOf('（5分）每张课桌135元')).toEqual(['元']);
  });

  it('does not take a LaTeX command for an English word', () => {
    expect(wordsOf('$a \\not= b$, $x \\le 2$')).toEqual([]);
  });

  it('keeps apart 135元 and 135角, 正确 and 错误, 增大 and 减小', () => {
    expect(agree('每张课桌135元，买3张共多少钱？', '每张课桌135角，买3张共多少钱？')).toBe(false);
    expect(agree('下列说法正确的是', '下列说法错误的是')).toBe(false);
    expect(agree('物体的速度增大', '物体的速度减小')).toBe(false);
    expect(agree('Which statement is correct?', 'Which statement is incorrect?')).toBe(false);
  });

  it('lets a typo that breaks a word pass, but not a word put in its place', () => {
    expect(agree('原子序数依次增大的短周期元素', '原子序数依次增着的短周期元素')).toBe(true);
    expect(agree('发挥主观能动性', '发挥主观是动性')).toBe(true);
    expect(agree('发挥主观能动性', '发挥主观不能动性')).toBe(false);
  });

  it('agrees with itself and on questions without key words', () => {
    expect(agree('已知函数f(x)=x^2', '已知函数f(x)=x^2')).toBe(true);
    expect(agree('下列说法正确的是', '下列说法正确的是')).toBe(true);
  });
});
