/*
 * serial.c - the console: COM1 (I/O port 0x3f8), a 16550 UART at 115200
 * baud, 8 data bits, no parity, 1 stop bit, polled (no interrupts).
 * Newlines go out as CR LF.  Source: the 16550 data sheet (registers
 * THR/DLL 0, IER/DLM 1, FCR 2, LCR 3, MCR 4, LSR 5).
 */
#include "cpu.h"
#include "x86_64.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20

void x86_serial_init(void)
{
	x86_outb(COM1 + 1, 0x00); /* no interrupts */
	x86_outb(COM1 + 3, 0x80); /* DLAB: divisor follows */
	x86_outb(COM1 + 0, 0x01); /* 115200 / 1 */
	x86_outb(COM1 + 1, 0x00);
	x86_outb(COM1 + 3, 0x03); /* 8N1 */
	x86_outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	x86_outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void put(char c)
{
	while (!(x86_inb(COM1 + 5) & LSR_THR_EMPTY))
		;
	x86_outb(COM1, (uint8_t)c);
}

void x86_serial_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
}
