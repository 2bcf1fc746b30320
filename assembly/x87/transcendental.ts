// x87 transcendental instructions (SDM Vol. 1 8.3.8-8.3.10): not implemented yet -- #UD.
import { raiseUD } from "../fault";
export function x87Trans(esc: u32, m: u32): void { raiseUD(); }
