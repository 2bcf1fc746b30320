// The exit port: a guest reports its exit status by writing it to port
// 0x501 (1, 2 or 4 bytes), which shuts the domain down at once. Modelled on
// QEMU's isa-debug-exit device at the same port, except that the status is
// the value written (QEMU exits with (value << 1) | 1, which cannot express
// success). Reads return all ones.
import type { PortIoDevice } from './portio.js';

export const EXIT_PORT = 0x501;

export class DebugExit implements PortIoDevice {
  readonly name = 'exit port';
  constructor(private readonly onExit: (status: number) => void) {}
  read(_port: number, size: 1 | 2 | 4): number { return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1; }
  write(_port: number, _size: 1 | 2 | 4, value: number): void { this.onExit(value >>> 0); }
}
