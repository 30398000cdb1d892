# EMBER_PORTABLE: only the layers that do not depend on the machine (base/, boot/'s generic
# formats, devices/) and their unit tests, for any target architecture: the portability check
# that scripts/cross_test.sh runs for arm64 under qemu-aarch64-static. Third-party pieces come
# from the host's Debian packages where they are architecture-independent: spdlog's and fmt's
# headers (compiled by ember_logging) and GoogleTest's sources (/usr/src/googletest).
set(headers ${CMAKE_BINARY_DIR}/portable-include)
file(MAKE_DIRECTORY ${headers})
foreach(dir spdlog fmt)
  file(CREATE_LINK /usr/include/${dir} ${headers}/${dir} SYMBOLIC)
endforeach()
include(scripts/cmake/logging.cmake)
ember_logging_library(${headers})
find_package(Threads REQUIRED)

add_subdirectory(base)
add_subdirectory(boot)
add_subdirectory(devices)
add_subdirectory(arch/aarch64)

add_library(ember_core INTERFACE)
target_link_libraries(ember_core INTERFACE ember_devices ember_boot ember_base)
target_include_directories(ember_core INTERFACE ${CMAKE_SOURCE_DIR})

enable_testing()
add_subdirectory(tests/support)
add_subdirectory(tests/unit)
