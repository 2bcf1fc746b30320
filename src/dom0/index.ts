// Dom0: the control domain's side of the paper's mechanism. One name per
// concept, across the tree:
//
//   trigger      the hypervisor's half, per domain (src/xen/trigger.ts,
//                VmiTrigger): altp2m views with mirror indices, the VMFUNC
//                awareness in the RDTSC exit handler, Xen's trace buffers and
//                the VIRQ that wakes Dom0. Its rule and the request record
//                (the paper's VMFUNC awareness and parameter passing) are
//                src/xen/vmfunc-awareness.ts (checkVmiRequest).
//   request      one VMI request (VmiRequest): the guest switched to mirror
//                view 10+k with VMFUNC, asking for program k.
//   Dom0         the trace daemon and its wake-ups (dom0.ts, xentrace.ts,
//                trace-file.ts): reads requests out of the trace buffers
//                (HandledRequest). Imported directly, not from here.
//   launch       Dom0's dispatch, the paper's VMI launch module (launch.ts,
//                LaunchModule, LaunchConfig): request parameter -> VMI
//                program -> sandbox. `vmfunc-vmi run` with it:
//                src/run-launch.ts (runImageWithLaunches).
//   vtime        Dom0's programs on the guest's virtual time (vtime.ts,
//                Dom0Vtime): the default launch mode, a co-simulation.
//   sandbox      runs one VMI program to its end under limits (sandbox/,
//                Sandbox, SandboxRunOptions -> SandboxResult).
//   VMI program  a WASI command module importing `libvmi` (vmi/programs/,
//                built to build/vmi/; VmiProgramSummary in `run --json`).
//   LibVMI       what programs call, with LibVMI's names (libvmi/: Vmi is
//                vmi_instance_t; the profile and System.map: profile.ts).
//   vmi          the whole mechanism, on or off: `--vmi`/`--no-vmi`,
//                RunOptions.vmi (VmiRunOptions), Domain.trigger when on.
export { LaunchModule, LaunchConfigError, DEFAULT_LAUNCH_CONFIG, loadLaunchConfig, bundledProgram, defaultProfile,
  launchMode, LAUNCH_MODES, DEFAULT_LAUNCH_MODE, type LaunchConfig, type LaunchRecord, type LaunchMode } from './launch.js';
export { Dom0Vtime, ProgramTimeline, type VtimeCosts } from './vtime.js';
export { Sandbox, runInSandbox, type SandboxOptions, type SandboxRunOptions, type SandboxResult, type ProgramClock } from './sandbox/index.js';
export { Vmi, eptDomainAccess, VMI_SUCCESS, VMI_FAILURE, type DomainAccess, type VmiInitOptions, type status_t } from './libvmi/index.js';
export { loadProfile, SymbolMap, ProfileError, type Profile } from './profile.js';
