# One helper per target kind, so folders stay declarative.
#
#   shoal_library(NAME name SRCS a.cc ... DEPS x y)      -> target shoal_name, alias shoal::name
#       public headers under libs/<name>/include/shoal/<name>/
#   shoal_header_library(NAME name DEPS ...)             -> INTERFACE target shoal::name
#   shoal_test(NAME name SRCS ... DEPS ... LABELS unit|integration)
#   shoal_service(NAME name SRCS main.cc DEPS ...)       -> executable shoal-<name>
#       compiled with SHOAL_VERSION="<version>" (top-level CMakeLists.txt)

function(shoal_library)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(shoal_${A_NAME} STATIC ${A_SRCS})
  add_library(shoal::${A_NAME} ALIAS shoal_${A_NAME})
  target_include_directories(shoal_${A_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                             PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(shoal_${A_NAME} PUBLIC ${A_DEPS})
endfunction()

function(shoal_header_library)
  cmake_parse_arguments(A "" "NAME" "DEPS" ${ARGN})
  add_library(shoal_${A_NAME} INTERFACE)
  add_library(shoal::${A_NAME} ALIAS shoal_${A_NAME})
  target_include_directories(shoal_${A_NAME} INTERFACE ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_link_libraries(shoal_${A_NAME} INTERFACE ${A_DEPS})
endfunction()

function(shoal_test)
  cmake_parse_arguments(A "" "NAME;LABELS" "SRCS;DEPS" ${ARGN})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  add_executable(${A_NAME} ${A_SRCS})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${A_NAME} COMMAND ${A_NAME})
  set_tests_properties(${A_NAME} PROPERTIES LABELS "${A_LABELS}" TIMEOUT 300)
endfunction()

# A fuzz target: with clang a libFuzzer binary (sanitizers on), otherwise a plain executable
# whose main() runs a bounded mutation loop; either way a ctest runs it for SECONDS.
#   shoal_fuzz_target(NAME name SRC file.cc SECONDS n DEPS ... [INCLUDES dir])
function(shoal_fuzz_target)
  cmake_parse_arguments(A "" "NAME;SRC;SECONDS" "DEPS;INCLUDES" ${ARGN})
  add_executable(${A_NAME} ${A_SRC})
  target_include_directories(${A_NAME} PRIVATE ${A_INCLUDES})
  target_link_libraries(${A_NAME} PRIVATE ${A_DEPS})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_definitions(${A_NAME} PRIVATE SHOAL_LIBFUZZER=1)
    target_compile_options(${A_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${A_NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
    add_test(NAME ${A_NAME} COMMAND ${A_NAME} -max_total_time=${A_SECONDS})
  else()
    add_test(NAME ${A_NAME} COMMAND ${A_NAME} ${A_SECONDS})
  endif()
  set_tests_properties(${A_NAME} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

function(shoal_service)
  cmake_parse_arguments(A "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(shoal-${A_NAME} ${A_SRCS})
  target_link_libraries(shoal-${A_NAME} PRIVATE ${A_DEPS})
  target_compile_definitions(shoal-${A_NAME} PRIVATE SHOAL_VERSION="${SHOAL_VERSION}")
endfunction()
