/* ember-guest-exit N: run inside a Linux guest, ends the VM so that Ember exits with status
 * (N << 1) | 1 (N from 0 to 127): the test's verdict as the VMM's exit status. It writes N to
 * the isa-debug-exit port 0xf4, which Ember watches with --debug-exit (QEMU: -device
 * isa-debug-exit,iobase=0xf4,iosize=4). Debian's kernels have no /dev/port, so this asks for
 * the port with ioperm(2) (root). Static, for any initramfs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv) {
    char *end = NULL;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *argv[1] == '\0' || *end != '\0' || n < 0 || n > 127) {
        fprintf(stderr, "usage: ember-guest-exit N (0..127): Ember then exits with (N << 1) | 1\n");
        return 2;
    }
    if (ioperm(DEBUG_EXIT_PORT, 4, 1) != 0) {
        fprintf(stderr, "ember-guest-exit: ioperm(0x%x): %s\n", DEBUG_EXIT_PORT, strerror(errno));
        return 1;
    }
    outl((unsigned)n, DEBUG_EXIT_PORT);
    fprintf(stderr, "ember-guest-exit: port 0x%x did not end the VM (is Ember running with --debug-exit?)\n",
            DEBUG_EXIT_PORT);
    return 1;
}
