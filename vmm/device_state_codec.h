// The devices' State structs (serial, i8042, CMOS, a virtio-mmio transport with its core and
// queues, virtio-net's and virtio-console's own) as fields of a snapshot's state file. Decoding checks only the encoding (lengths,
// flags, counts); each device's restore() then checks the values as guest input.
#pragma once

#include "base/result.h"
#include "base/state_file.h"
#include "devices/legacy/cmos.h"
#include "devices/legacy/i8042.h"
#include "devices/legacy/serial.h"
#include "devices/virtio/console.h"
#include "devices/virtio/mmio_transport.h"
#include "devices/virtio/net.h"

namespace vmm {

void encode_state(const Serial::State& state, StateEncoder& out);
void encode_state(const I8042::State& state, StateEncoder& out);
void encode_state(const Cmos::State& state, StateEncoder& out);
void encode_state(const virtio::MmioTransport::State& state, StateEncoder& out);
void encode_state(const virtio::Net::State& state, StateEncoder& out);
void encode_state(const virtio::Console::State& state, StateEncoder& out);

Result<Serial::State> decode_serial_state(StateDecoder& in);
Result<I8042::State> decode_i8042_state(StateDecoder& in);
Result<Cmos::State> decode_cmos_state(StateDecoder& in);
Result<virtio::MmioTransport::State> decode_mmio_transport_state(StateDecoder& in);
Result<virtio::Net::State> decode_net_state(StateDecoder& in);
Result<virtio::Console::State> decode_console_state(StateDecoder& in);

}  // namespace vmm
