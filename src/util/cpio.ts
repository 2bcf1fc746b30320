// The "newc" cpio format (the SVR4 portable format with ASCII hex fields, "070701"; Linux's
// Documentation/driver-api/early-userspace/buffer-format.rst), enough to append files to an
// initramfs: the kernel unpacks concatenated archives in order, so an archive of a user's files
// after the bundled one adds them to the root file system (`run --add FILE`).

export interface CpioFile {
  /** Path inside the archive, without a leading slash ("bin/hello"). */
  name: string;
  data: Uint8Array;
  /** File mode with type bits (default 0100755: a regular, executable file). */
  mode?: number;
}

const enc = new TextEncoder();
const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

/** A newc archive of `files` (directories must already exist in the archive it is appended to), with its trailer. */
export function newcArchive(files: readonly CpioFile[], mtime = 0): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 0x7f000000;   // clear of the inode numbers the base archive uses
  const entry = (name: string, mode: number, data: Uint8Array) => {
    const nameBytes = enc.encode(name + '\0');
    // c_magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    const header = '070701' + [ino++, mode, 0, 0, 1, mtime, data.length, 0, 0, 0, 0, nameBytes.length, 0].map(hex8).join('');
    parts.push(enc.encode(header), nameBytes, new Uint8Array(pad4(110 + nameBytes.length)), data, new Uint8Array(pad4(data.length)));
  };
  for (const f of files) {
    if (!f.name || f.name.startsWith('/') || f.name.split('/').includes('..')) throw new RangeError(`cpio: "${f.name}" is not a relative path inside the archive`);
    entry(f.name, f.mode ?? 0o100755, f.data);
  }
  entry('TRAILER!!!', 0, new Uint8Array(0));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total + pad4(total));   // archives are concatenated on 4-byte boundaries
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
