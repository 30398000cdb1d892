// What a guest finds at the x86 reset vector (0xf000:0xfff0): the 16 bytes of "firmware"
// that reset the machine through the ACPI reset register. Linux reaches it when every other
// way to reboot is gone: a hardware-reduced ACPI machine without EFI makes it choose EFI, then
// the BIOS (machine_real_restart() jumps to the reset vector in real mode), so without this
// a plain `reboot` would run into whatever lies at 1 MiB - 16 and hang there.
#pragma once

#include "base/guest_memory.h"

namespace vmm::arch::x86_64 {

Status write_reset_vector(GuestMemory& memory);

}  // namespace vmm::arch::x86_64
