#include "arch/x86_64/reset_vector.h"

#include <array>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {

Status write_reset_vector(GuestMemory& memory) {
    static_assert(layout::ACPI_RESET_PORT <= 0xffff);
    // 16-bit real mode: mov al, RESET_VALUE; mov dx, RESET_PORT; out dx, al; 1: hlt; jmp 1b.
    const std::array<uint8_t, 9> code = {
        0xb0, layout::ACPI_RESET_VALUE,
        0xba, static_cast<uint8_t>(layout::ACPI_RESET_PORT & 0xff), static_cast<uint8_t>(layout::ACPI_RESET_PORT >> 8),
        0xee,
        0xf4,
        0xeb, 0xfd,
    };
    return memory.write(layout::RESET_VECTOR, code);
}

}  // namespace vmm::arch::x86_64
