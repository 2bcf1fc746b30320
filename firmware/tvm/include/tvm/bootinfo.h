/*
 * The vmfunc-vmi boot protocol, version 1 (see firmware/README.md).
 *
 * The loader passes the guest-physical address of this block in RDI. It lives
 * in the loader's area below 1 MiB, which the kernel may reuse once it has
 * copied what it needs. All fields are little-endian; reserved fields are 0.
 */
#ifndef TVM_BOOTINFO_H
#define TVM_BOOTINFO_H

#define BOOTINFO_MAGIC    0x49424d56u   /* "VMBI" */
#define BOOTINFO_VERSION  1u

/* bootinfo.flags */
#define BOOTINFO_F_VMFUNC (1u << 0)     /* VMFUNC leaf 0 (EPTP switching) is enabled */
#define BOOTINFO_F_VE     (1u << 1)     /* EPT-violation #VE is enabled (ve_info_gpa is armed) */

#ifndef __ASSEMBLER__
struct boot_info {
	u32 magic;          /* 0x00 BOOTINFO_MAGIC */
	u32 version;        /* 0x04 BOOTINFO_VERSION */
	u64 mem_bytes;      /* 0x08 guest RAM: guest-physical [0, mem_bytes) */
	u64 cmdline_gpa;    /* 0x10 NUL-terminated command line */
	u32 cmdline_len;    /* 0x18 its length without the NUL */
	u32 flags;          /* 0x1c BOOTINFO_F_* */
	u64 sysmap_gpa;     /* 0x20 System.map text (nm -n format), 0 if not loaded */
	u64 sysmap_len;     /* 0x28 its length in bytes */
	u64 ve_info_gpa;    /* 0x30 #VE information page (SDM 25.5.7.2), 0 if none */
	u32 timer_vector;   /* 0x38 vector of the periodic timer interrupt */
	u32 eptp_views;     /* 0x3c EPTP-list entries usable as normal views (0: no VMFUNC) */
	u64 timer_period;   /* 0x40 timer period in TSC cycles */
	u64 tsc_khz;        /* 0x48 TSC frequency in kHz */
	u64 image_start;    /* 0x50 lowest guest-physical address the image occupies */
	u64 image_end;      /* 0x58 end (exclusive) of its highest PT_LOAD segment */
	u64 free_start;     /* 0x60 first free page after the image and System.map */
	u32 domid;          /* 0x68 Xen domain id */
	u32 vcpu_id;        /* 0x6c this vCPU */
	u32 console_port;   /* 0x70 16550 UART base port (0x3f8) */
	u32 exit_port;      /* 0x74 exit-status port (0x501) */
};                      /* 0x78 bytes */
#endif

#endif
