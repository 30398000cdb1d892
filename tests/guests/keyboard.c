/* keyboard: the i8042 and its keyboard as Linux's i8042 and atkbd drivers meet them at probe
 * (controller self test, configuration byte, keyboard ID, LEDs, scan code set), then, with
 * interrupt 1 enabled, the bytes of one key sequence the host sends (Ember's API action
 * SendCtrlAltDel: Ctrl, Alt, Delete made and broken in scan code set 2), printed in order as
 * "keyboard: keys 14 11 e0 71 ...", and whether the interrupt reached the 8259's request
 * register. Prints "keyboard: ready" before it waits; ends through the i8042 reset. */
#include "runtime/runtime.h"

#define DATA 0x60
#define STATUS 0x64
#define OUTPUT_FULL 0x01
#define PIC_MASTER 0x20 /* reads the interrupt request register (IRR) after reset */
#define KEYS 11

static uint8_t next_byte(void) {
    while (!(inb(STATUS) & OUTPUT_FULL))
        cpu_relax();
    return inb(DATA);
}

static bool replies(uint8_t command, const uint8_t *expected, int n) {
    outb(DATA, command);
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = next_byte() == expected[i] && ok;
    return ok;
}

static void print_byte(uint8_t b) {
    const char *digits = "0123456789abcdef";
    print_char(digits[b >> 4]);
    print_char(digits[b & 15]);
}

int guest_main(const struct boot_info *boot) {
    (void)boot;
    outb(STATUS, 0xaa);
    check(next_byte() == 0x55, "keyboard: controller self test");
    outb(STATUS, 0x60);
    outb(DATA, 0x00); /* interrupt off while probing */
    outb(STATUS, 0x20);
    check(next_byte() == 0x00, "keyboard: configuration byte");
    static const uint8_t id[] = {0xfa, 0xab, 0x83}, ack[] = {0xfa}, set2[] = {0xfa, 0x02};
    check(replies(0xf2, id, 3), "keyboard: ID");
    check(replies(0xed, ack, 1) && replies(0x00, ack, 1), "keyboard: LEDs");
    check(replies(0xf0, ack, 1) && replies(0x00, set2, 2), "keyboard: scan code set 2");
    check(replies(0xf4, ack, 1), "keyboard: scanning enabled");
    check(!(inb(PIC_MASTER) & 0x02), "keyboard: no interrupt while it was off");
    outb(STATUS, 0x60);
    outb(DATA, 0x01); /* interrupt on */
    print("keyboard: ready\n");
    uint8_t keys[KEYS];
    keys[0] = next_byte();
    const bool raised = inb(PIC_MASTER) & 0x02;
    for (int i = 1; i < KEYS; i++)
        keys[i] = next_byte();
    print("keyboard: keys");
    for (int i = 0; i < KEYS; i++) {
        print_char(' ');
        print_byte(keys[i]);
    }
    print_char('\n');
    check(raised, "keyboard: interrupt 1 raised");
    return check_failures();
}
