# ember_logging: spdlog over fmt, both from Debian's headers, their implementations compiled
# once into this static library (base/log_backend.cpp) instead of in every file that logs, and
# neither libfmt.so nor libspdlog.so linked: at exec the loader then maps and relocates libc
# alone (see README, Performance). INCLUDE_DIR: where spdlog/ and fmt/ are found.
function(ember_logging_library include_dir)
  add_library(ember_logging STATIC ${CMAKE_SOURCE_DIR}/base/log_backend.cpp)
  target_compile_definitions(ember_logging PUBLIC SPDLOG_FMT_EXTERNAL SPDLOG_COMPILED_LIB)
  target_include_directories(ember_logging SYSTEM PUBLIC ${include_dir})
  target_link_libraries(ember_logging PRIVATE ember_flags)
endfunction()
