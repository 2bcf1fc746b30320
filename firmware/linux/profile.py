#!/usr/bin/env python3
"""Writes the LibVMI profile of a Linux kernel (firmware/linux/linux.profile.json) from its DWARF,
and with --isf a Volatility 3 ISF (JSON symbol table, format 6.2.0) subset of the same facts.

Usage: profile.py VMLINUX > linux.profile.json
       profile.py --isf VMLINUX > linux.isf.json

The offsets are what LibVMI's Linux config names (linux_tasks, linux_mm, linux_pid, linux_name,
linux_pgd) plus the ones vmfunc-vmi's programs also use (src/dom0/profile.ts): linux_active_mm,
linux_parent (task_struct.real_parent), linux_state (task_struct.__state), and linux_nr_syscalls
(sys_call_table's size / 8). They are read with pahole (dwarves), as LibVMI's own tools read them
from debug info; `gdb -batch -ex 'p &((struct task_struct *)0)->tasks' vmlinux` gives the same.
"""
import json, re, subprocess, sys

def members(vmlinux, struct):
    return layout(vmlinux, struct)[0]

def layout(vmlinux, struct):
    """(member offsets, the struct's size) as pahole prints them."""
    out = subprocess.run(['pahole', '--hex', '-C', struct, vmlinux], check=True,
                         capture_output=True, text=True).stdout
    size = re.search(r'/\* size: (\d+)', out)
    found = {}
    # Members: "\t<type> <name>;   /* 0xOFF 0xSIZE */". pahole expands only anonymous structs and
    # unions inline (mm_struct's members sit in one), with offsets from the start of `struct`.
    for line in out.splitlines():
        m = re.match(r'^\t+(.*?)(\w+)(\[\d*\])?(:\d+)?;\s*/\*\s*(0x[0-9a-f]+|\d+)', line)
        if m:
            found.setdefault(m.group(2), int(m.group(5), 0))
    if not found or not size:
        sys.exit(f'profile.py: pahole found no struct {struct} in {vmlinux}')
    return found, int(size.group(1))

def need(table, struct, name):
    if name not in table:
        sys.exit(f'profile.py: struct {struct} has no member {name}')
    return table[name]

def isf(vmlinux):
    """The Volatility 3 ISF subset: the types and symbols a process list and a syscall check read."""
    task, task_size = layout(vmlinux, 'task_struct')
    mm, mm_size = layout(vmlinux, 'mm_struct')
    lh, lh_size = layout(vmlinux, 'list_head')
    base = lambda n: {'kind': 'base', 'name': n}
    ptr = lambda sub: {'kind': 'pointer', 'subtype': sub}
    struct = lambda n: {'kind': 'struct', 'name': n}
    field = lambda table, owner, name, t: {'offset': need(table, owner, name), 'type': t}
    nm = subprocess.run(['nm', vmlinux], check=True, capture_output=True, text=True).stdout
    syms = {}
    for name in ('init_task', 'sys_call_table', 'linux_banner', 'init_top_pgt'):
        m = re.search(r'^([0-9a-f]+) \w ' + name + '$', nm, re.M)
        if m:
            syms[name] = {'address': int(m.group(1), 16)}
    return {
        'metadata': {'format': '6.2.0', 'producer': {'name': 'vmfunc-vmi firmware/linux/profile.py', 'version': '1'},
                     'linux': {'symbols': [{'kind': 'dwarf', 'name': 'vmlinux'}]}},
        'base_types': {
            'int': {'kind': 'int', 'size': 4, 'signed': True, 'endian': 'little'},
            'unsigned int': {'kind': 'int', 'size': 4, 'signed': False, 'endian': 'little'},
            'char': {'kind': 'char', 'size': 1, 'signed': True, 'endian': 'little'},
            'pointer': {'kind': 'int', 'size': 8, 'signed': False, 'endian': 'little'},
            'void': {'kind': 'void', 'size': 0, 'signed': False, 'endian': 'little'},
        },
        'user_types': {
            'list_head': {'kind': 'struct', 'size': lh_size, 'fields': {
                'next': field(lh, 'list_head', 'next', ptr(struct('list_head'))),
                'prev': field(lh, 'list_head', 'prev', ptr(struct('list_head')))}},
            'task_struct': {'kind': 'struct', 'size': task_size, 'fields': {
                '__state': field(task, 'task_struct', '__state', base('unsigned int')),
                'tasks': field(task, 'task_struct', 'tasks', struct('list_head')),
                'mm': field(task, 'task_struct', 'mm', ptr(struct('mm_struct'))),
                'active_mm': field(task, 'task_struct', 'active_mm', ptr(struct('mm_struct'))),
                'pid': field(task, 'task_struct', 'pid', base('int')),
                'tgid': field(task, 'task_struct', 'tgid', base('int')),
                'real_parent': field(task, 'task_struct', 'real_parent', ptr(struct('task_struct'))),
                'comm': field(task, 'task_struct', 'comm', {'kind': 'array', 'count': 16, 'subtype': base('char')})}},
            'mm_struct': {'kind': 'struct', 'size': mm_size, 'fields': {
                'pgd': field(mm, 'mm_struct', 'pgd', ptr(base('void')))}},
        },
        'enums': {},
        'symbols': syms,
    }

def main():
    if len(sys.argv) == 3 and sys.argv[1] == '--isf':
        json.dump(isf(sys.argv[2]), sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write('\n')
        return
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
