// Fuzzes the snapshot state file reader and the machine-state decoder on hostile files. The
// input is tried twice: as a whole file (magic, version, length and CRC checks), and as a
// payload given a correct header (section count from its first byte), so the fuzzer reaches
// the section table and the decoders behind the CRC. Invariants: no crash, no read outside the
// input; a file that parses re-serializes to the same bytes; decoded states keep their bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/crc64.h"
#include "base/state_file.h"
#include "vmm/machine_state_codec.h"

using namespace vmm;

namespace {

constexpr uint32_t MAX_VCPUS = 8;

void check(std::span<const uint8_t> bytes) {
    auto file = StateFile::parse(bytes, "fuzzed snapshot");
    if (!file.ok())
        return;
    const auto again = file->serialize();
    if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin()))
        __builtin_trap();
    auto state = decode_machine_state(*file, MAX_VCPUS);
    if (!state.ok())
        return;
    if (state->vcpus.empty() || state->vcpus.size() > MAX_VCPUS)
        __builtin_trap();
    for (const auto& vcpu : state->vcpus) {
        if (vcpu.msrs.size() > MAX_SAVED_MSRS)
            __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> input(data, size);
    check(input);
    if (size == 0)
        return 0;
    const auto payload = input.subspan(1);
    StateEncoder file;
    file.put_bytes(std::span(reinterpret_cast<const uint8_t*>(STATE_FILE_MAGIC), sizeof STATE_FILE_MAGIC));
    file.put(STATE_FILE_VERSION);
    file.put(uint32_t{data[0]});
    file.put(uint64_t{payload.size()});
    file.put(crc64(payload));
    file.put_bytes(payload);
    check(file.take());
    return 0;
}
