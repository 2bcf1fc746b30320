/* The 16550 UART at the console port: polled transmit, as Linux's early serial console. */
#include <tvm/kernel.h>
#include <tvm/x86.h>

#define UART_TX   0   /* transmit holding register */
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_DLL  0   /* with LCR.DLAB */
#define UART_DLM  1
#define UART_LSR_THRE 0x20

static u16 serial_base = 0x3f8;

void serial_init(u16 base)
{
	serial_base = base;
	outb(base + UART_LCR, 0x03);      /* 8n1 */
	outb(base + UART_IER, 0);         /* no interrupts */
	outb(base + UART_FCR, 0);         /* no FIFO */
	outb(base + UART_MCR, 0x03);      /* DTR + RTS */
	u8 c = inb(base + UART_LCR);
	outb(base + UART_LCR, c | 0x80);  /* DLAB: 115200 baud */
	outb(base + UART_DLL, 1);
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, c & ~0x80);
}

void serial_putc(char ch)
{
	unsigned timeout = 0xffff;
	while (!(inb(serial_base + UART_LSR) & UART_LSR_THRE) && --timeout) cpu_relax();
	outb(serial_base + UART_TX, (u8)ch);
}
