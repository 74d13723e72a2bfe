import Table from 'cli-table3';

/** A table for the terminal: coloured headings on a TTY, plain text when piped. */
export function table(head: string[], stream: NodeJS.WritableStream = process.stdout): Table.Table {
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  return new Table({ head, style: tty ? undefined : { head: [], border: [] } });
}
