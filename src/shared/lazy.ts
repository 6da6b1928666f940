/**
 * Libraries only some requests need, loaded on first use: exceljs alone adds about 19 MB to the
 * resident memory of an idle server (docx, loaded the same way by the report routes, 9 MB), and
 * the export memory target counts the whole process (docs/benchmarks.md).
 */
import type ExcelJS from 'exceljs';

let excel: Promise<typeof ExcelJS> | undefined;

export function loadExcel(): Promise<typeof ExcelJS> {
  return (excel ??= import('exceljs').then(
    (m) => (m as unknown as { default: typeof ExcelJS }).default ?? (m as unknown as typeof ExcelJS),
  ));
}
