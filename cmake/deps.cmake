# Every third-party dependency is found here, once. All come from Debian packages
# (scripts/install-deps.sh).
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(RocksDB REQUIRED CONFIG)
find_package(GTest REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 QUIET)

# Debian's cnats CMake config references a static library it does not ship: find it by hand.
find_library(NATS_LIBRARY NAMES nats REQUIRED)
find_path(NATS_INCLUDE_DIR NAMES nats/nats.h REQUIRED)
add_library(nats::nats UNKNOWN IMPORTED)
set_target_properties(nats::nats PROPERTIES IMPORTED_LOCATION ${NATS_LIBRARY}
                      INTERFACE_INCLUDE_DIRECTORIES ${NATS_INCLUDE_DIR})

# CAF 0.17.6 ships no CMake config in Debian.
find_library(CAF_CORE_LIBRARY NAMES caf_core REQUIRED)
find_path(CAF_INCLUDE_DIR NAMES caf/all.hpp REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
                      INTERFACE_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR}
                      INTERFACE_LINK_LIBRARIES Threads::Threads)

find_path(RAPIDJSON_INCLUDE_DIR NAMES rapidjson/document.h REQUIRED)
add_library(rapidjson INTERFACE)
target_include_directories(rapidjson INTERFACE ${RAPIDJSON_INCLUDE_DIR})
target_compile_definitions(rapidjson INTERFACE RAPIDJSON_HAS_STDSTRING=1)

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR NAMES CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${CLI11_INCLUDE_DIR})
endif()
