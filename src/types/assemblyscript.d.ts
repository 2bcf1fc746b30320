// AssemblyScript's scalar type names, for the files in assembly/shared/ that the host imports
// directly (they are compiled by both asc and tsc). 64-bit values stay below 2^53 there.
declare global {
  type i8 = number; type i16 = number; type i32 = number; type i64 = number; type isize = number;
  type u8 = number; type u16 = number; type u32 = number; type u64 = number; type usize = number;
  type f32 = number; type f64 = number; type bool = boolean;
}
export {};
