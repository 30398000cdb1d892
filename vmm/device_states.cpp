#include "vmm/device_states.h"

#include "base/state_file.h"
#include "devices/virtio/console.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio.h"
#include "devices/virtio/vsock.h"
#include "vmm/device_state_codec.h"

namespace vmm {

Result<std::vector<uint8_t>> save_device_state(const VirtioSlot& slot) {
    StateEncoder out;
    TRY(slot.transport->with_device([&out](virtio::VirtioDevice& device) -> Status {
        if (device.device_id() == virtio::device_id::NET)
            encode_state(static_cast<virtio::Net&>(device).save(), out);
        else if (device.device_id() == virtio::device_id::CONSOLE)
            encode_state(static_cast<virtio::Console&>(device).save(), out);
        return {};
    }));
    return out.take();
}

Status restore_device_state(const VirtioSlot& slot, const std::vector<uint8_t>& bytes) {
    const uint32_t id = slot.transport->device().device_id();
    if (id == virtio::device_id::NET) {
        StateDecoder in(bytes, "its virtio-net state");
        const virtio::Net::State state = TRY(decode_net_state(in));
        TRY(in.finish());
        return slot.transport->with_device(
            [&state](virtio::VirtioDevice& device) { return static_cast<virtio::Net&>(device).restore(state); });
    }
    if (id == virtio::device_id::CONSOLE) {
        StateDecoder in(bytes, "its virtio-console state");
        const virtio::Console::State state = TRY(decode_console_state(in));
        TRY(in.finish());
        return slot.transport->with_device(
            [&state](virtio::VirtioDevice& device) { return static_cast<virtio::Console&>(device).restore(state); });
    }
    if (!bytes.empty())
        return Error("state for a device that keeps none");
    if (id == virtio::device_id::VSOCK) {
        return slot.transport->with_device([](virtio::VirtioDevice& device) -> Status {
            static_cast<virtio::Vsock&>(device).announce_transport_reset();
            return {};
        });
    }
    return {};
}

}  // namespace vmm
