// The API socket: HTTP/1.1 on a UNIX socket, requests handed to the Controller. HTTP is
// Boost.Beast's parser and serializer (Debian's libboost-dev, header-only: Ember still links
// libc alone, see README). Its own threads: a listener and a bounded pool of workers; every
// request must arrive whole within a deadline, so a slow or stuck client holds one worker for
// a few seconds at most; beyond the pool and its queue, clients wait in the kernel's backlog.
// No request runs on a vCPU thread or the VM's event loop.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "vmm/api/controller.h"
#include "vmm/seccomp.h"

namespace vmm::api {

// Firecracker's limit on a request body.
inline constexpr size_t MAX_BODY = 51200;

class ApiServer {
public:
    struct Limits {
        size_t workers = 4;
        size_t queued = 64;          // accepted connections waiting for a worker
        int request_timeout_ms = 5000;  // a whole request, and the wait for the next one
    };
    // Binds PATH (refused when something is there already) and serves it until destroyed;
    // the socket file is removed then.
    // Each of its threads installs the API's seccomp filter before it serves.
    static Result<std::unique_ptr<ApiServer>> start(const std::string& path, Controller& controller,
                                                    const SeccompFilters& filters, Limits limits);
    static Result<std::unique_ptr<ApiServer>> start(const std::string& path, Controller& controller,
                                                    const SeccompFilters& filters = SeccompFilters::none()) {
        return start(path, controller, filters, Limits{});
    }
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

private:
    ApiServer(std::string path, UniqueFd listener, UniqueFd stop, Controller& controller, SeccompFilters filters,
              Limits limits);
    // Never serves unfiltered: a thread whose filter the kernel refuses ends the process.
    void apply_filter();
    void listen_loop();
    void work();
    void serve(UniqueFd connection);

    std::string m_path;
    UniqueFd m_listener;
    UniqueFd m_stop;  // eventfd: the listener ends
    Controller& m_controller;
    const SeccompFilters m_filters;
    Limits m_limits;
    std::mutex m_mutex;
    std::condition_variable m_ready, m_room;
    std::deque<UniqueFd> m_queue;
    bool m_stopping = false;
    std::vector<std::thread> m_workers;
    std::thread m_accept_thread;
};

}  // namespace vmm::api
