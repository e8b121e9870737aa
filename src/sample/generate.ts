/**
 * A realistic sample question bank: questions built from templates per subject and type,
 * with near-duplicates planted the way real banks get them (re-typed with a question
 * number and score note, pasted with HTML, full-width punctuation, a reworded lead-in).
 *
 * `bun src/sample/generate.ts [--count 600] [--seed 42] [--channels 2] [--out file.ndjson]` writes NDJSON.
 */
import type { QuestionInput } from '../questions/question.schema.ts';

type Rand = () => number;

/** mulberry32: small, seedable, good enough to make the same bank twice. */
export function seededRandom(seed: number): Rand {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rand: Rand, min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

interface Draft {
  content: string;
  options?: Record<string, string>;
  answer?: string;
}

type Template = (rand: Rand) => Draft;

const choices = (rand: Rand, correct: number, spread: number): { options: Record<string, string>; answer: string } => {
  const values = new Set<number>([correct]);
  while (values.size < 4) values.add(correct + int(rand, -spread, spread) || correct + values.size);
  const sorted = [...values].sort(() => rand() - 0.5);
  const labels = ['A', 'B', 'C', 'D'];
  const options = Object.fromEntries(sorted.map((value, i) => [labels[i]!, String(value)]));
  return { options, answer: labels[sorted.indexOf(correct)]! };
};

const PEOPLE = ['小明', '小红', '小华', '小刚', '李老师', '王同学'];
const THINGS = ['苹果', '铅笔', '图书', '气球', '练习本'];
const POEMS = ['静夜思', '春晓', '登鹳雀楼', '望庐山瀑布', '咏鹅', '悯农', '江雪', '相思', '出塞', '凉州词', '赋得古原草送别', '游子吟'];
const POETS = ['李白', '孟浩然', '王之涣', '李白', '骆宾王', '李绅', '柳宗元', '王维', '王昌龄', '王翰', '白居易', '孟郊'];
const WORDS = ['apple', 'library', 'weather', 'holiday', 'science', 'museum', 'garden'];

const TEMPLATES: Record<string, Record<string, Template[]>> = {
  数学: {
    单选题: [
      (r) => {
        const a = int(r, 2, 99), b = int(r, 2, 99);
        return { content: `计算 $${a} \\times ${b}$ 的值是多少？`, ...choices(r, a * b, 20) };
      },
      (r) => {
        const a = int(r, 2, 19), b = int(r, 1, 99), x = int(r, 2, 15);
        return { content: `方程 $${a}x + ${b} = ${a * x + b}$ 的解是`, ...choices(r, x, 5) };
      },
      (r) => {
        const s = int(r, 3, 300), [shape, sides] = pick(r, [['正方形', 4], ['等边三角形', 3], ['正五边形', 5], ['正六边形', 6]] as const);
        return { content: `一个${shape}的边长是 ${s} 厘米，它的周长是多少厘米？`, ...choices(r, sides * s, 12) };
      },
    ],
    填空题: [
      (r) => {
        const a = int(r, 2, 40), b = int(r, 2, 99), x = int(r, 2, 9);
        return { content: `已知函数 $f(x) = ${a}x^2 + ${b}$，则 $f(${x}) =$ ______。`, answer: String(a * x * x + b) };
      },
      (r) => {
        const n = int(r, 2, 60), price = int(r, 2, 40);
        return { content: `${pick(r, PEOPLE)}买了 ${n} 个${pick(r, THINGS)}，每个 ${price} 元，一共花了 ______ 元。`, answer: String(n * price) };
      },
    ],
    解答题: [
      (r) => {
        const a = int(r, 10, 90), b = int(r, 10, 90);
        return { content: `一辆汽车以每小时 ${a} 千米的速度行驶了 ${b} 分钟，求它行驶的路程（结果保留整数）。`, answer: String(Math.round((a * b) / 60)) };
      },
    ],
  },
  物理: {
    单选题: [
      (r) => {
        const m = int(r, 1, 200), a = int(r, 1, 30);
        return { content: `质量为 ${m} kg 的物体以 ${a} m/s² 的加速度运动，它受到的合力为多少牛顿？`, ...choices(r, m * a, 15) };
      },
      (r) => {
        const u = int(r, 2, 220), i = int(r, 1, 20);
        return { content: `一个电阻两端电压为 ${u} V，通过的电流为 ${i} A，电阻消耗的电功率是多少瓦？`, ...choices(r, u * i, 10) };
      },
    ],
    填空题: [
      (r) => {
        const v = int(r, 2, 120), t = int(r, 2, 90);
        return { content: `物体做匀速直线运动，速度为 ${v} m/s，经过 ${t} s 通过的路程为 ______ m。`, answer: String(v * t) };
      },
      (r) => {
        const m = int(r, 1, 90), h = int(r, 1, 60);
        return { content: `把质量为 ${m} kg 的物体举高 ${h} m，克服重力做功 ______ J（g 取 10 N/kg）。`, answer: String(m * h * 10) };
      },
    ],
  },
  语文: {
    单选题: [
      (r) => {
        const k = int(r, 0, POEMS.length - 1);
        const options = Object.fromEntries(['A', 'B', 'C', 'D'].map((label, i) => [label, POETS[(k + i) % POETS.length]!]));
        return { content: `《${POEMS[k]}》的作者是谁？本诗共 ${int(r, 2, 12)} 句，你能背出第 ${int(r, 1, 12)} 句吗？`, options, answer: 'A' };
      },
    ],
    填空题: [
      (r) => ({ content: `请写出《${pick(r, POEMS)}》中你最喜欢的一句诗，并用不少于 ${int(r, 20, 800)} 字说明理由。` }),
    ],
  },
  英语: {
    单选题: [
      (r) => {
        const w = pick(r, WORDS);
        return {
          content: `Choose the correct word to complete the sentence: We visited the ${w} on day ${int(r, 1, 300)} of the trip.`,
          options: { A: 'visited', B: 'visits', C: 'visiting', D: 'visit' },
          answer: 'A',
        };
      },
    ],
    填空题: [
      (r) => ({ content: `Fill in the blank: There are ${int(r, 2, 500)} books in the ${pick(r, WORDS)}, and ______ of them are new.` }),
    ],
  },
};

/** The ways a question reappears in a real bank, each one a near-duplicate of the original. */
export type PlantKind = 'numbered' | 'html' | 'full-width' | 'reworded' | 'spaced' | 'repeat';

const PLANTS: { kind: PlantKind; apply: (content: string, rand: Rand) => string }[] = [
  { kind: 'numbered', apply: (c, r) => `${int(r, 1, 30)}. （${pick(r, [3, 4, 5, 6])}分）${c}` },
  { kind: 'html', apply: (c) => `<p>${c.replaceAll('，', '，&nbsp;')}</p>` },
  {
    kind: 'full-width',
    apply: (c) => c.replaceAll(',', '，').replaceAll('?', '？').replaceAll(':', '：').replace(/(\d)/g, (d) => String.fromCharCode(0xff10 + Number(d))),
  },
  {
    kind: 'reworded',
    apply: (c) =>
      c.includes('是多少') ? c.replace('是多少', '等于多少')
      : c.startsWith('Choose the correct word') ? c.replace('Choose the correct word', 'Choose the right word')
      : `请回答：${c}`,
  },
  { kind: 'spaced', apply: (c) => `  ${c.replaceAll(' ', '  ')}  ` },
];

export const SAMPLE_CHANNELS = ['default', 'partner', 'exam-2024', 'exam-2025', 'school-a', 'school-b'] as const;

export interface SampleOptions {
  count?: number;
  seed?: number;
  /** Share of questions that are planted near-duplicates of an earlier one (0..0.9). */
  duplicateRate?: number;
  /** How many source channels (1..6); each multiplies the number of groups. */
  channels?: number;
}

/** Makes `count` questions; about `duplicateRate` of them are near-duplicates within their group. */
export function generateSampleBank(options: SampleOptions = {}): QuestionInput[] {
  return generateLabelledBank(options).questions;
}

/**
 * The bank plus its ground truth: for each planted copy, the `external_id` of the question it
 * was made from and how, so a dedup run can be scored (test/sample-recall.test.ts).
 */
export function generateLabelledBank({ count = 600, seed = 42, duplicateRate = 0.2, channels = 2 }: SampleOptions = {}): {
  questions: QuestionInput[];
  /** Copy's external_id → the original's external_id and how the copy was made. */
  planted: Map<string, { from: string; kind: PlantKind }>;
} {
  const planted = new Map<string, { from: string; kind: PlantKind }>();
  const rand = seededRandom(seed);
  const groups = Object.entries(TEMPLATES).flatMap(([subject, byType]) =>
    Object.entries(byType).flatMap(([type, templates]) => SAMPLE_CHANNELS.slice(0, Math.max(1, channels)).map((channel) => ({ subject, type, channel, templates }))),
  );
  const originals = new Map<string, QuestionInput[]>();
  const bank: QuestionInput[] = [];
  const seen = new Set<string>();
  const firstWith = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const group = groups[i % groups.length]!;
    const key = `${group.type}|${group.subject}|${group.channel}`;
    const earlier = originals.get(key) ?? [];
    const base = { external_id: `sample-${i + 1}`, type_name: group.type, subject_name: group.subject, channel_code: group.channel };
    if (earlier.length > 0 && rand() < duplicateRate) {
      const source = pick(rand, earlier);
      const plant = pick(rand, PLANTS);
      const content = plant.apply(source.content, rand);
      if (!seen.has(content)) {
        seen.add(content);
        bank.push({ ...source, ...base, content });
        planted.set(base.external_id, { from: source.external_id!, kind: plant.kind });
        continue;
      }
    }
    let draft = pick(rand, group.templates)(rand);
    // Templates can repeat themselves; only planted copies should be duplicates.
    for (let tries = 0; seen.has(draft.content) && tries < 20; tries++) draft = pick(rand, group.templates)(rand);
    const repeatOf = firstWith.get(`${key}|${draft.content}`);
    if (repeatOf) planted.set(base.external_id, { from: repeatOf, kind: 'repeat' }); // the template ran dry: an exact repeat, labelled as one
    else firstWith.set(`${key}|${draft.content}`, base.external_id);
    seen.add(draft.content);
    const question: QuestionInput = { ...base, content: draft.content, options: draft.options ?? null, answer: draft.answer ?? null };
    earlier.push(question);
    originals.set(key, earlier);
    bank.push(question);
  }
  return { questions: bank, planted };
}

export const toNdjson = (questions: readonly QuestionInput[]) => questions.map((q) => JSON.stringify(q)).join('\n') + '\n';

if (import.meta.main) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const at = args.indexOf(`--${name}`);
    return at === -1 ? undefined : args[at + 1];
  };
  const count = Number(flag('count') ?? 600);
  const seed = Number(flag('seed') ?? 42);
  const channels = Number(flag('channels') ?? 2);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !Number.isInteger(channels) || channels < 1) {
    console.error('usage: bun src/sample/generate.ts [--count N] [--seed N] [--channels 1..6] [--out file.ndjson]');
    process.exit(2);
  }
  const text = toNdjson(generateSampleBank({ count, seed, channels }));
  const out = flag('out');
  if (out) {
    await Bun.write(out, text);
    console.error(`wrote ${count} questions to ${out}`);
  } else {
    process.stdout.write(text);
  }
}
