// A progress line on stderr for the long benches: redrawn in place on a
// terminal, silent otherwise (logs and pipes stay clean).
export interface Progress { update(done: number, total: number, what: string): void; note(what: string): void; done(): void }

export function progressLine(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): Progress {
  let open = false;
  const draw = (text: string) => {
    if (!enabled) return;
    const cols = (stream.columns || 100) - 1;
    stream.write(`\r\x1b[K${text.slice(0, cols)}`);
    open = true;
  };
  return {
    update(done, total, what) {
      const w = 24, fill = total > 0 ? Math.round((done / total) * w) : 0;
      draw(`[${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${done}/${total} ${what}`);
    },
    note(what) { draw(what); },
    done() { if (open) stream.write('\r\x1b[K'); open = false; },
  };
}
