/**
 * The words of the report in each language: headings and column titles as printed in the official
 * tables (section 1 columns 1..4, section 2 columns 1..6), verdict words, execution statuses.
 * Verdict words are labels of the derived status, never stored or typed in.
 */
import type { AchievementStatus } from '../achievement/compute.js';
import type { Lang } from '../shared/lang.js';
import type { ExecutionStatus } from '../risks/schemas.js';
import type { z } from 'zod';
import type { Trend } from '../status/schemas.js';

/** Russian noun forms for 1, 2-4 and 5+ (21 балл, 22 балла, 25 баллов). */
function ruPlural(n: number, [one, few, many]: [string, string, string]): string {
  if (!Number.isInteger(n)) return few; // 28,5 балла
  const d = n % 10;
  const h = n % 100;
  if (d === 1 && h !== 11) return one;
  if (d >= 2 && d <= 4 && (h < 12 || h > 14)) return few;
  return many;
}

export interface ReportLabels {
  reportTitle: string;
  reportingPeriod: (year: number) => string;
  approvedBy: string;
  stateBody: string;
  sections: { risks: string; indicators: string; analyticalNote: string };
  riskColumns: [string, string, string, string];
  indicatorColumns: [string, string, string, string, string, string];
  reportingPeriodColumn: string;
  /** Printed before the title in heading rows: "1-стратегиялық бағыт. " + title. */
  directionPrefix: (code: string) => string;
  goalPrefix: (code: string) => string;
  verdicts: Record<AchievementStatus, string>;
  executionStatuses: Record<ExecutionStatus, string>;
  noNote: string;
  missingValue: string;
  /** Explains the [xx] marks, naming the languages actually used instead. */
  fallbackLegend: (used: Lang[]) => string;
  sheetNames: { risks: string; indicators: string; analyticalNote: string };
  /** "Page N of M" around the two numbers: [before N, between, after M]. */
  pageOf: [string, string, string];
  /**
   * What an official prints after a rank in the fact cell: "176 елдің ішінде; 29 балл" (the
   * numbers already formatted for the language; `size`/`score` as numbers pick plural forms).
   */
  rankDetails: (size: { n: number; text: string } | null, score: { n: number; text: string } | null) => string;
  previousFactColumn: string;
  trendColumn: string;
  trends: Record<z.infer<typeof Trend>, string>;
  editionNotesTitle: string;
}

const marks = (used: Lang[]) => used.map((l) => `[${l}]`).join(', ');

export const LABELS: Record<Lang, ReportLabels> = {
  kk: {
    reportTitle: 'Стратегиялық жоспарды іске асыру бойынша есеп',
    reportingPeriod: (year) => `Есепті кезең: ${year} жыл`,
    approvedBy: 'Бекітілген:',
    stateBody: 'Мемлекеттік орган:',
    sections: {
      risks: '1. Тәуекелдерді басқаруды талдау',
      indicators: '2. Мақсаттарға және нысаналы индикаторларға қол жеткізу',
      analyticalNote: '3. Талдамалық жазба',
    },
    riskColumns: [
      'Ықтимал тәуекелдердің атауы',
      'Тәуекелдерді басқару бойынша жоспарланған іс-шаралар',
      'Тәуекелдерді басқару бойынша іс-шаралардың іс жүзінде орындалуы',
      'Ескертпе (орындалуы/ орындалмауы туралы ақпарат)',
    ],
    indicatorColumns: [
      'Нысаналы индикатордың атауы',
      'Ақпарат көзі',
      'Өлш. бірл.',
      'Жоспар',
      'Факт',
      'Ескертпе (орындалуы/ орындалмауы туралы ақпарат)',
    ],
    reportingPeriodColumn: 'Есепті кезең',
    directionPrefix: (code) => `${code}-стратегиялық бағыт. `,
    goalPrefix: (code) => `${code}-мақсат. `,
    verdicts: {
      achieved: 'Орындалды',
      not_achieved: 'Орындалмады',
      pending: 'Орындау барысында',
      no_target: 'Жоспарлы мән белгіленбеген',
    },
    executionStatuses: { executed: 'Орындалды', not_executed: 'Орындалмады', in_progress: 'Орындау барысында' },
    noNote: 'Талдамалық жазба енгізілмеген.',
    missingValue: '-',
    fallbackLegend: (used) =>
      `${marks(used)} белгісі бар мәтіндер қазақ тілінде енгізілмеген: олар белгіде көрсетілген тілде берілген.`,
    sheetNames: { risks: '1 Тәуекелдер', indicators: '2 Индикаторлар', analyticalNote: '3 Талдамалық жазба' },
    pageOf: ['Бет ', ' / ', ''],
    rankDetails: (size, score) => [size && `${size.text} елдің ішінде`, score && `${score.text} балл`].filter(Boolean).join('; '),
    previousFactColumn: 'Өткен жылғы факт',
    trendColumn: 'Серпіні',
    trends: { improved: 'Жақсарды', worsened: 'Нашарлады', unchanged: 'Өзгерген жоқ' },
    editionNotesTitle: 'Осы басылым туралы ескертпелер',
  },
  ru: {
    reportTitle: 'Отчёт о реализации стратегического плана',
    reportingPeriod: (year) => `Отчётный период: ${year} год`,
    approvedBy: 'Утверждён:',
    stateBody: 'Государственный орган:',
    sections: {
      risks: '1. Анализ управления рисками',
      indicators: '2. Достижение целей и целевых индикаторов',
      analyticalNote: '3. Аналитическая записка',
    },
    riskColumns: [
      'Наименование возможных рисков',
      'Запланированные мероприятия по управлению рисками',
      'Фактическое исполнение мероприятий по управлению рисками',
      'Примечание (информация об исполнении/ неисполнении)',
    ],
    indicatorColumns: [
      'Наименование целевого индикатора',
      'Источник информации',
      'Ед. изм.',
      'План',
      'Факт',
      'Примечание (информация о достижении/ недостижении)',
    ],
    reportingPeriodColumn: 'Отчётный период',
    directionPrefix: (code) => `Стратегическое направление ${code}. `,
    goalPrefix: (code) => `Цель ${code}. `,
    verdicts: {
      achieved: 'Достигнут',
      not_achieved: 'Не достигнут',
      pending: 'В процессе достижения',
      no_target: 'Плановое значение не установлено',
    },
    executionStatuses: { executed: 'Исполнено', not_executed: 'Не исполнено', in_progress: 'В процессе исполнения' },
    noNote: 'Аналитическая записка не внесена.',
    missingValue: '-',
    fallbackLegend: (used) =>
      `Тексты с пометкой ${marks(used)} не внесены на русском языке и приведены на языке, указанном в пометке.`,
    sheetNames: { risks: '1 Риски', indicators: '2 Индикаторы', analyticalNote: '3 Аналитическая записка' },
    pageOf: ['Страница ', ' из ', ''],
    rankDetails: (size, score) =>
      [
        size && `из ${size.text} ${ruPlural(size.n, ['страны', 'стран', 'стран'])}`,
        score && `${score.text} ${ruPlural(score.n, ['балл', 'балла', 'баллов'])}`,
      ]
        .filter(Boolean)
        .join('; '),
    previousFactColumn: 'Факт предыдущего года',
    trendColumn: 'Динамика',
    trends: { improved: 'Улучшение', worsened: 'Ухудшение', unchanged: 'Без изменений' },
    editionNotesTitle: 'Примечания к настоящему изданию',
  },
  en: {
    reportTitle: 'Report on the implementation of the strategic plan',
    reportingPeriod: (year) => `Reporting period: ${year}`,
    approvedBy: 'Approved by:',
    stateBody: 'State body:',
    sections: {
      risks: '1. Risk management analysis',
      indicators: '2. Achievement of goals and target indicators',
      analyticalNote: '3. Analytical note',
    },
    riskColumns: [
      'Potential risks',
      'Planned risk management measures',
      'Actual implementation of the risk management measures',
      'Note (information on execution/ non-execution)',
    ],
    indicatorColumns: [
      'Target indicator',
      'Information source',
      'Unit',
      'Plan',
      'Fact',
      'Note (information on achievement/ non-achievement)',
    ],
    reportingPeriodColumn: 'Reporting period',
    directionPrefix: (code) => `Strategic direction ${code}. `,
    goalPrefix: (code) => `Goal ${code}. `,
    verdicts: { achieved: 'Achieved', not_achieved: 'Not achieved', pending: 'In progress', no_target: 'No target set' },
    executionStatuses: { executed: 'Executed', not_executed: 'Not executed', in_progress: 'In progress' },
    noNote: 'No analytical note has been entered.',
    missingValue: '-',
    fallbackLegend: (used) =>
      `Texts marked ${marks(used)} have not been entered in English and are given in the language the mark names.`,
    sheetNames: { risks: '1 Risks', indicators: '2 Indicators', analyticalNote: '3 Analytical note' },
    pageOf: ['Page ', ' of ', ''],
    rankDetails: (size, score) =>
      [size && `of ${size.text} ${size.n === 1 ? 'country' : 'countries'}`, score && `${score.text} ${score.n === 1 ? 'point' : 'points'}`]
        .filter(Boolean)
        .join('; '),
    previousFactColumn: "Previous year's fact",
    trendColumn: 'Trend',
    trends: { improved: 'Improved', worsened: 'Worsened', unchanged: 'Unchanged' },
    editionNotesTitle: 'Notes on this edition',
  },
};
