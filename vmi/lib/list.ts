// A walk of a Linux `struct list_head` list (include/linux/list.h: circular,
// doubly linked, the head a list_head of its own) that a changing guest
// cannot fool. The guest keeps running while a VMI program reads it (the
// paper's point), so a walk may meet a task freed under it, a half-done
// list_add or garbage. Each step makes the checks of Linux's CONFIG_DEBUG_LIST
// (lib/list_debug.c, __list_del_entry_valid_or_report: an entry's next's prev
// is the entry, no LIST_POISON) plus what a reader outside the guest needs:
//   - the pointer is canonical and inside the kernel's direct map or image
//     (kernel-ranges.ts) before anything is read through it;
//   - it is mapped: the read of the entry's list_head succeeds (that one
//     vmi_read_va is LibVMI's vmi_translate_kv2p and copy, so a walk costs no
//     more libvmi calls than LibVMI's own process-list);
//   - no entry is visited twice (a visited set; a list that comes back
//     anywhere but its head is a cycle);
//   - the walk ends within a bounded number of entries.
// A walk ends CONSISTENT (back at its head, whose prev is the last entry) or
// torn with a status and a reason; field checks of the caller (tasks.ts) end
// it with WALK_BAD_FIELD through fail().
import { getenv } from "./wasi";
import { hex, parseU64, parseOk } from "./fmt";
import { vmi_read_va } from "./libvmi";
import { KernelRanges, isCanonical } from "./kernel-ranges";

export const WALK_IN_PROGRESS: i32 = -1;
export const WALK_CONSISTENT: i32 = 0;
/** The head itself cannot be read: an error of the profile or symbols, not a torn snapshot. */
export const WALK_NO_HEAD: i32 = 1;
export const WALK_CYCLE: i32 = 2;
export const WALK_BAD_POINTER: i32 = 3;
export const WALK_PREV_MISMATCH: i32 = 4;
export const WALK_BAD_FIELD: i32 = 5;
export const WALK_TOO_LONG: i32 = 6;

/** include/linux/poison.h on x86-64 (POISON_POINTER_DELTA 0xdead000000000000): list_del's marks. */
export const LIST_POISON1: u64 = 0xdead000000000100;
export const LIST_POISON2: u64 = 0xdead000000000122;

/** The default bound on a walk's length: Linux's default pid_max (PID_MAX_DEFAULT, include/linux/threads.h). */
export const MAX_LIST_ENTRIES: i32 = 32768;
/** Walks a program retries after a torn one before it reports the snapshot inconsistent. */
export const WALK_RETRIES: i32 = 2;

/** VMI_WALK_MAX from the environment (1..4194304), else MAX_LIST_ENTRIES. */
export function walkMaxEntries(): i32 { return envInt("VMI_WALK_MAX", MAX_LIST_ENTRIES, 1, 4194304); }
/** VMI_WALK_RETRIES from the environment (0..100), else WALK_RETRIES. */
export function walkRetries(): i32 { return envInt("VMI_WALK_RETRIES", WALK_RETRIES, 0, 100); }

function envInt(name: string, dflt: i32, lo: i32, hi: i32): i32 {
  const s = getenv(name);
  if (s === null) return dflt;
  const v = parseU64(s, 10);
  return parseOk && v >= <u64>lo && v <= <u64>hi ? <i32>v : dflt;
}

/** Why `va` cannot be a kernel list pointer, or null if it may be one. */
export function pointerProblem(va: u64, ranges: KernelRanges): string | null {
  if (va == LIST_POISON1) return "LIST_POISON1, a deleted entry";
  if (va == LIST_POISON2) return "LIST_POISON2, a deleted entry";
  if (!isCanonical(va)) return "not canonical";
  if (!ranges.contains(va)) return "outside the kernel's direct map and image";
  return null;
}

const listHead = new Uint8Array(16);

export class ListWalker {
  status: i32 = WALK_IN_PROGRESS;
  reason: string = "";
  /** The list_head of the current entry. */
  entry: u64 = 0;
  /** Entries yielded so far (the current one is entry `count`, from 1). */
  count: i32 = 0;
  private nextPtr: u64 = 0;
  private first: bool = true;
  private visited: Set<u64> = new Set<u64>();
  private readNext: u64 = 0;
  private readPrev: u64 = 0;

  /**
   * `head`: the list_head the list hangs from. `includeHead`: whether the
   * head's own container is the first entry (the task list: init_task.tasks
   * is both). `containerOffset`: the list_head's offset in its container,
   * to name containers (task addresses) in reasons. `what`: "task list" ...
   */
  constructor(public head: u64, public includeHead: bool, public ranges: KernelRanges,
              public maxEntries: i32 = MAX_LIST_ENTRIES, public containerOffset: u64 = 0,
              public what: string = "list") {
    this.entry = head;
  }

  /** The container of list_head `lh`. */
  container(lh: u64): u64 { return lh - this.containerOffset; }

  /** Reads the head; false (status WALK_NO_HEAD, a reason) if it cannot be read. One libvmi call. */
  begin(): bool {
    const bad = pointerProblem(this.head, this.ranges);
    if (bad !== null) return this.end(WALK_NO_HEAD, "the " + this.what + "'s head " + hex(this.head) + " is " + bad);
    if (!this.read(this.head)) return this.end(WALK_NO_HEAD, "the " + this.what + "'s head " + hex(this.head) + " cannot be read");
    this.nextPtr = this.readNext;
    return true;
  }

  /** Moves to the next entry; false when the walk has ended (`status` says how). One libvmi call per entry. */
  next(): bool {
    if (this.status != WALK_IN_PROGRESS) return false;
    if (this.first) {
      this.first = false;
      if (this.includeHead) { this.count = 1; return true; }
    }
    const c = this.nextPtr;
    if (c == this.head) {
      // Back at the head: read it again (the guest may have changed it) and check that its prev is our last entry.
      if (!this.read(c)) return this.end(WALK_BAD_POINTER, "the " + this.what + "'s head " + hex(c) + " can no longer be read");
      if (this.readPrev != this.entry) {
        return this.end(WALK_PREV_MISMATCH, "the " + this.what + "'s head has prev " + hex(this.readPrev) + ", should be " +
          hex(this.entry) + " (entry " + this.count.toString() + ")");
      }
      return this.end(WALK_CONSISTENT, "");
    }
    if (this.count >= this.maxEntries) {
      return this.end(WALK_TOO_LONG, this.what + " did not return to its head within " + this.maxEntries.toString() + " entries");
    }
    const bad = pointerProblem(c, this.ranges);
    if (bad !== null) return this.end(WALK_BAD_POINTER, this.nextOfCurrent() + " is " + hex(c) + ": " + bad);
    if (this.visited.has(c)) {
      return this.end(WALK_CYCLE, this.what + " revisits " + hex(this.container(c)) + " after " + this.count.toString() + " entries");
    }
    if (!this.read(c)) return this.end(WALK_BAD_POINTER, this.nextOfCurrent() + " is " + hex(c) + ": not mapped");
    if (this.readPrev != this.entry) {
      return this.end(WALK_PREV_MISMATCH, "entry " + (this.count + 1).toString() + " (" + hex(this.container(c)) + ") has prev " +
        hex(this.readPrev) + ", should be " + hex(this.entry) + " (a task freed or moved under the walk)");
    }
    this.visited.add(c);
    this.entry = c;
    this.count++;
    this.nextPtr = this.readNext;
    return true;
  }

  /** Ends the walk as torn: the caller found the current entry's fields inconsistent. */
  fail(status: i32, reason: string): void { this.end(status, reason); }

  get consistent(): bool { return this.status == WALK_CONSISTENT; }

  private nextOfCurrent(): string {
    return "the next pointer of entry " + this.count.toString() + " (" + hex(this.container(this.entry)) + ")";
  }

  private end(status: i32, reason: string): bool {
    this.status = status;
    this.reason = reason;
    return false;
  }

  /** The list_head at `lh` (next, prev) in one read. */
  private read(lh: u64): bool {
    if (vmi_read_va(lh, 0, listHead) != 16) return false;
    this.readNext = load<u64>(listHead.dataStart);
    this.readPrev = load<u64>(listHead.dataStart + 8);
    return true;
  }
}
