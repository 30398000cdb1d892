# Helpers for the integration tests (sourced). A test prints what it checked and exits 0,
# exits 1 with the reason on failure, or 77 (CTest SKIP_RETURN_CODE) with the reason.

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

expect_eq() { # what expected actual
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# Runs "$@" with a wall-clock bound (a hung VMM is a failure, not a stuck CI).
bounded() { timeout --kill-after=5 "${TEST_TIMEOUT:-60}" "$@"; }

# The QEMU microvm command line equivalent to Ember's, for the differential tests.
QEMU_MICROVM=(qemu-system-x86_64 -accel kvm -M microvm -nodefaults -no-user-config -nographic
              -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=4 -no-reboot)
