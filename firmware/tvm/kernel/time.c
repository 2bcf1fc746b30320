/*
 * Time: the TSC is the clocksource (its rate comes from the boot
 * information), and the hypervisor's periodic timer interrupt is the tick.
 * As Linux's timekeeping does on every tick, the handler reads the TSC; it
 * counts jiffies, wakes sleepers whose deadline passed and charges the
 * running task's time slice.
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>

volatile u64 jiffies;
u64 tsc_khz;
u64 last_tick_tsc;      /* TSC read by the latest tick */
u64 tick_lateness_max;  /* the largest gap between two ticks beyond one period, in cycles */

u64 cycles_to_ns(u64 c) { return (c / tsc_khz) * 1000000ul + (c % tsc_khz) * 1000000ul / tsc_khz; }
u64 ns_to_cycles(u64 ns) { return (ns / 1000000ul) * tsc_khz + (ns % 1000000ul) * tsc_khz / 1000000ul; }

void time_init(void)
{
	tsc_khz = boot_params.tsc_khz ? boot_params.tsc_khz : 1000000;
	printk("tsc: Detected %lu.%03lu MHz processor\n", tsc_khz / 1000, tsc_khz % 1000);
	printk("clocksource: tsc, timer interrupt on vector 0x%x every %lu cycles (%lu us)\n",
	       boot_params.timer_vector, boot_params.timer_period, cycles_to_ns(boot_params.timer_period) / 1000);
	last_tick_tsc = rdtsc();
}

void timer_interrupt(struct pt_regs *regs)
{
	u64 now = rdtsc();
	u64 gap = now - last_tick_tsc;
	if (jiffies && gap > boot_params.timer_period && gap - boot_params.timer_period > tick_lateness_max)
		tick_lateness_max = gap - boot_params.timer_period;
	last_tick_tsc = now;
	jiffies++;
	struct task_struct *cur = current;
	if (user_mode(regs)) cur->utime++; else cur->stime++;

	struct list_head *p;
	list_for_each(p, &init_task.tasks) {
		struct task_struct *t = list_entry(p, struct task_struct, tasks);
		if (t->state == TASK_INTERRUPTIBLE && t->wakeup_tsc && now >= t->wakeup_tsc) {
			t->wakeup_tsc = 0;
			wake_up_process(t);
		}
	}
	if (cur != &init_task && --cur->time_slice <= 0) need_resched = 1;
}
