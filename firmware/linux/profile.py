#!/usr/bin/env python3
"""Writes the LibVMI profile of a Linux kernel (firmware/linux/linux.profile.json) from its DWARF.

Usage: profile.py VMLINUX > linux.profile.json

The offsets are what LibVMI's Linux config names (linux_tasks, linux_mm, linux_pid, linux_name,
linux_pgd) plus the ones vmfunc-vmi's programs also use (src/dom0/profile.ts): linux_active_mm,
linux_parent (task_struct.real_parent), linux_state (task_struct.__state), and linux_nr_syscalls
(sys_call_table's size / 8). They are read with pahole (dwarves), as LibVMI's own tools read them
from debug info; `gdb -batch -ex 'p &((struct task_struct *)0)->tasks' vmlinux` gives the same.
"""
import json, re, subprocess, sys

def members(vmlinux, struct):
    out = subprocess.run(['pahole', '--hex', '-C', struct, vmlinux], check=True,
                         capture_output=True, text=True).stdout
    found = {}
    # Members: "\t<type> <name>;   /* 0xOFF 0xSIZE */". pahole expands only anonymous structs and
    # unions inline (mm_struct's members sit in one), with offsets from the start of `struct`.
    for line in out.splitlines():
        m = re.match(r'^\t+(.*?)(\w+)(\[\d*\])?(:\d+)?;\s*/\*\s*(0x[0-9a-f]+|\d+)', line)
        if m:
            found.setdefault(m.group(2), int(m.group(5), 0))
    if not found:
        sys.exit(f'profile.py: pahole found no struct {struct} in {vmlinux}')
    return found

def need(table, struct, name):
    if name not in table:
        sys.exit(f'profile.py: struct {struct} has no member {name}')
    return table[name]

def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    vmlinux = sys.argv[1]
    task = members(vmlinux, 'task_struct')
    mm = members(vmlinux, 'mm_struct')
    nm = subprocess.run(['nm', '-S', vmlinux], check=True, capture_output=True, text=True).stdout
    m = re.search(r'^[0-9a-f]+ ([0-9a-f]+) [RrDd] sys_call_table$', nm, re.M)
    if not m:
        sys.exit('profile.py: no sys_call_table with a size in ' + vmlinux)
    prof = {
        'ostype': 'Linux',
        'name': 'linux-6.1',
        'sysmap': 'System.map',
        'linux_tasks': hex(need(task, 'task_struct', 'tasks')),
        'linux_mm': hex(need(task, 'task_struct', 'mm')),
        'linux_active_mm': hex(need(task, 'task_struct', 'active_mm')),
        'linux_pid': hex(need(task, 'task_struct', 'pid')),
        'linux_name': hex(need(task, 'task_struct', 'comm')),
        'linux_parent': hex(need(task, 'task_struct', 'real_parent')),
        'linux_state': hex(need(task, 'task_struct', '__state')),
        'linux_pgd': hex(need(mm, 'mm_struct', 'pgd')),
        'linux_nr_syscalls': int(m.group(1), 16) // 8,
    }
    json.dump(prof, sys.stdout, indent=2)
    sys.stdout.write('\n')

main()
