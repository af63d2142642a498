/*
 * clock.c - time for the report: the time-stamp counter, calibrated once
 * against the 8254 PIT's channel 2 (1.193182 MHz, gated through port 0x61,
 * so no interrupt is needed).  Under TCG the TSC follows QEMU's virtual
 * clock, which tracks host time; figures are wall-clock estimates only and
 * no test depends on them.  Source: Intel 8254 data sheet; the
 * calibration Linux's pit_calibrate_tsc performs.
 */
#include "../hal/x86_64/cpu.h"
#include "kernel.h"

#define PIT_HZ 1193182u
#define CAL_MS 20u

uint64_t clock_calibrate_tsc(void)
{
	uint16_t count = (uint16_t)(PIT_HZ / 1000u * CAL_MS);
	/* Gate channel 2 on, speaker off; mode 0 (count down once), binary. */
	x86_outb(0x61, (uint8_t)((x86_inb(0x61) & ~0x02u) | 0x01u));
	x86_outb(0x43, 0xb0);
	x86_outb(0x42, (uint8_t)count);
	x86_outb(0x42, (uint8_t)(count >> 8));
	uint64_t t0 = x86_rdtsc();
	while (!(x86_inb(0x61) & 0x20)) /* OUT2 rises at terminal count */
		;
	uint64_t ticks = x86_rdtsc() - t0;
	return ticks * (1000u / CAL_MS);
}

uint64_t clock_tsc_to_us(uint64_t ticks)
{
	if (kernel.tsc_hz == 0)
		return 0;
	return (uint64_t)((unsigned __int128)ticks * 1000000u / kernel.tsc_hz);
}
