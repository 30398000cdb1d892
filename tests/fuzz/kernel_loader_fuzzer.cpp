// Fuzzes the kernel loaders (bzImage, ELF64/ELF32, PVH) on attacker-chosen images: a user may
// boot an untrusted kernel. Invariants: no crash and no access outside guest memory (ASan);
// a loaded kernel's entry lies inside guest RAM.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "boot/x86_64/kernel_loader.h"
#include "fuzz_memory.h"
#include "vmm/boot_layout.h"

using namespace vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr uint64_t RAM = 64ull << 20;
    const MemoryRegionSpec spec[] = {{0, RAM}};
    static auto memory = std::move(GuestMemory::create(spec).value());
    static const auto cmdline = boot::KernelCmdline::create("console=ttyS0").value();
    // The first byte, on long inputs, splits off an initramfs of up to 255 bytes.
    const std::span<const uint8_t> input(data, size);
    const size_t initrd_len = size > 16 ? std::min<size_t>(data[0], size - 1) : 0;
    const auto initrd = initrd_len ? input.subspan(1, initrd_len) : std::span<const uint8_t>{};
    const auto kernel = initrd_len ? input.subspan(1 + initrd_len) : input;
    const boot::BootSpec boot{kernel,
                              initrd,
                              cmdline,
                              x86_boot_layout(),
                              {{0, 0x9fc00, MemoryType::Ram}, {0x100000, RAM - 0x100000, MemoryType::Ram}},
                              RAM,
                              0xe0000};
    auto loaded = boot::load_kernel(memory, boot);
    if (loaded.ok() && loaded->entry.entry >= RAM)
        __builtin_trap();
    return 0;
}
