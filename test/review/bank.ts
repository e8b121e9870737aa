/**
 * A small bank with known clusters in three groups, for the review tests: in each group a
 * question, copies of it in other dress (HTML, numbering, score notes, a reworded phrase), and
 * an unrelated question.
 */
const stem1 = '已知函数 f(x) = 2x^2 - 3x + 1，求 f(x) 在区间 [0, 2] 上的最大值和最小值，并写出取得最值时 x 的值。';
const stem2 = '某校高三年级共有学生 600 人，按分层抽样抽取 60 人进行视力调查，其中男生 32 人，求该校女生人数。';
const stem3 = '一物体做自由落体运动，下落 2 s 时的速度为多少？已知当地重力加速度 g 取 10 m/s²，不计空气阻力。';
const other1 = '在等差数列 {a_n} 中，a_1 = 3，公差 d = 2，求数列的前 10 项和 S_10 以及通项公式。';
const other3 = '一列简谐横波沿 x 轴正方向传播，波速为 4 m/s，周期为 0.5 s，求该波的波长。';

const q = (external_id: string, type_name: string, subject_name: string, channel_code: string, content: string) => ({ external_id, type_name, subject_name, channel_code, content });

export const REVIEW_BANK = [
  q('m1', '解答题', '数学', 'c1', stem1),
  q('m2', '解答题', '数学', 'c1', `<p>17. （12分）${stem1}</p>`),
  q('m3', '解答题', '数学', 'c1', stem1.replace('最大值和最小值', '最大值与最小值')),
  q('m4', '解答题', '数学', 'c1', `${stem1}&nbsp;`),
  q('m5', '解答题', '数学', 'c1', other1),
  q('s1', '解答题', '数学', 'c2', stem2),
  q('s2', '解答题', '数学', 'c2', `<p>3. ${stem2}</p>`),
  q('p1', '单选题', '物理', 'c1', stem3),
  q('p2', '单选题', '物理', 'c1', `（5分）${stem3}`),
  q('p3', '单选题', '物理', 'c1', other3),
];
