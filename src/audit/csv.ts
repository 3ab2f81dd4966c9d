/** One RFC 4180 CSV line. Cells a spreadsheet would run as a formula are prefixed with `'`. */
export function csvLine(cells: (string | number | null)[]): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
